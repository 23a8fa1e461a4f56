"""API shapes of consultations, and of voiding a record (取消). Shape only: rules live in crm/services/."""

from rest_framework import serializers

from crm.choices import (
    Channel,
    IpType,
    Topic,
)
from crm.models import (
    Consultation,
)
from crm.services.consultations import MAX_DURATION_MINUTES


class ConsultationSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    topics = serializers.SerializerMethodField()
    ip_types = serializers.SerializerMethodField()
    attendees = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    confidential = serializers.BooleanField(source="is_confidential", read_only=True)

    class Meta:
        model = Consultation
        fields = [
            "id",
            "case",
            "company",
            "organisation",
            "author",
            "occurred_at",
            "occurred_on",
            "fiscal_year",
            "channel",
            "duration_minutes",
            "topics",
            "ip_types",
            "summary",
            "advice",
            "next_action",
            "attendees",
            "confidential",
            "created_at",
        ]
        read_only_fields = fields

    def get_topics(self, obj) -> list[str]:
        return [t.topic for t in obj.topics.all()]

    def get_ip_types(self, obj) -> list[str]:
        return [t.ip_type for t in obj.ip_types.all()]


class ConsultationInputSerializer(serializers.Serializer):
    """POST consultations/ (API.md). Shape only; rules are in the service."""

    company = serializers.IntegerField(min_value=1)
    case = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    occurred_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION_MINUTES
    )
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices),
        allow_empty=False,
        max_length=18,
    )
    ip_types = serializers.ListField(
        child=serializers.ChoiceField(choices=IpType.choices),
        required=False,
        max_length=9,
    )
    summary = serializers.CharField(max_length=5000)
    advice = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    next_action = serializers.CharField(
        required=False, allow_blank=True, max_length=200
    )
    follow_up_on = serializers.DateField(required=False, allow_null=True)
    attendees = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=20
    )
    confidential = serializers.BooleanField(required=False, default=False)


class ConsultationUpdateSerializer(serializers.Serializer):
    """PATCH consultations/{id}/ (API.md "Record upkeep"). Shape only."""

    occurred_at = serializers.DateTimeField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    duration_minutes = serializers.IntegerField(
        min_value=1, max_value=MAX_DURATION_MINUTES, required=False
    )
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices),
        allow_empty=False,
        max_length=18,
        required=False,
    )
    ip_types = serializers.ListField(
        child=serializers.ChoiceField(choices=IpType.choices),
        required=False,
        max_length=9,
    )
    summary = serializers.CharField(max_length=5000, required=False)
    advice = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    next_action = serializers.CharField(
        required=False, allow_blank=True, max_length=200
    )


class VoidSerializer(serializers.Serializer):
    """DELETE consultations/{id}/, outcomes/{id}/: why it is voided (optional)."""

    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
