"""API shapes of cases, consultations, follow-ups and outcomes, and the case's referral suggestions.

Shape only: rules live in crm/services/.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import (
    Channel,
    IpType,
    OutcomeKind,
    Topic,
)
from crm.models import (
    Case,
    Consultation,
    FollowUp,
    Outcome,
    Referral,
)
from crm.services.cases import MAX_DURATION_MINUTES


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


class FollowUpSerializer(serializers.ModelSerializer):
    escalated = serializers.BooleanField(read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "case",
            "assignee",
            "due_on",
            "note",
            "status",
            "done_at",
            "done_by",
            "reminded_count",
            "escalated",
        ]
        read_only_fields = fields


class OutcomeSerializer(serializers.ModelSerializer):
    # Blank for outcomes without an IP right (financing, subsidies): the
    # schema must allow "" (read-only model fields lose allow_blank).
    ip_type = serializers.ChoiceField(
        choices=IpType.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = Outcome
        fields = [
            "id",
            "case",
            "kind",
            "ip_type",
            "occurred_on",
            "reference",
            "amount_yen",
        ]
        read_only_fields = fields


class ReferralSummarySerializer(serializers.ModelSerializer):
    from_organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Referral
        fields = [
            "id",
            "from_organisation",
            "to_organisation",
            "status",
            "sent_at",
            "respond_by",
            "answer_note",
            "outcome_note",
            "assignee",
        ]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    company_name = serializers.CharField(source="company.name", read_only=True)
    confidential = serializers.BooleanField(source="is_confidential", read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "title",
            "company",
            "company_name",
            "organisation",
            "status",
            "confidential",
            "assignee",
            "opened_on",
            "closed_on",
            "closing_note",
            "created_at",
        ]
        read_only_fields = fields


class CaseDetailSerializer(CaseSerializer):
    """A case with its timeline (consultations, referrals, follow-ups, outcomes)."""

    consultations = serializers.SerializerMethodField()
    referrals = ReferralSummarySerializer(many=True, read_only=True)
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    outcomes = OutcomeSerializer(many=True, read_only=True)
    other_cases = serializers.SerializerMethodField(
        help_text="the company's other cases the caller may see"
    )

    class Meta(CaseSerializer.Meta):
        fields = [
            *CaseSerializer.Meta.fields,
            "consultations",
            "referrals",
            "follow_ups",
            "outcomes",
            "other_cases",
        ]
        read_only_fields = fields

    @extend_schema_field(ConsultationSerializer(many=True))
    def get_consultations(self, obj):
        visible = self.context["visible_consultations"]
        return ConsultationSerializer(visible, many=True, context=self.context).data

    @extend_schema_field(CaseSerializer(many=True))
    def get_other_cases(self, obj):
        return CaseSerializer(self.context["other_cases"], many=True).data


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


class FollowUpUpdateSerializer(serializers.Serializer):
    """PATCH follow-ups/{id}/ (API.md "Record upkeep")."""

    due_on = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    assignee = serializers.IntegerField(
        min_value=1, required=False, help_text=_("担当者のユーザーID")
    )


class CaseNoteSerializer(serializers.Serializer):
    """POST cases/{id}/close/ and reopen/."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class OutcomeUpdateSerializer(serializers.Serializer):
    """PATCH outcomes/{id}/: the fields of POST outcomes/, each optional."""

    kind = serializers.ChoiceField(choices=OutcomeKind.choices, required=False)
    occurred_on = serializers.DateField(required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    amount_yen = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10**13
    )
    ip_type = serializers.ChoiceField(
        choices=IpType.choices, required=False, allow_blank=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class OutcomeInputSerializer(serializers.Serializer):
    """POST outcomes/ (API.md)."""

    case = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=OutcomeKind.choices)
    occurred_on = serializers.DateField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=60)
    amount_yen = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10**13
    )
    ip_type = serializers.ChoiceField(
        choices=IpType.choices, required=False, allow_blank=True
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class CaseAssignInputSerializer(serializers.Serializer):
    """POST cases/{id}/assign/."""

    assignee = serializers.IntegerField(min_value=1, help_text=_("担当者のユーザーID"))


class ExpertSuggestionSerializer(serializers.Serializer):
    """An expert of a suggested organisation whose expertise fits the case."""

    user = serializers.IntegerField(source="membership.user_id")
    name = serializers.CharField()
    matched = serializers.ListField(child=serializers.CharField())
    open_count = serializers.IntegerField()
    capacity = serializers.IntegerField(source="membership.capacity")
    reason = serializers.CharField()


class ReferralSuggestionSerializer(serializers.Serializer):
    """GET cases/{id}/referral-suggestions/: one suggested receiver."""

    organisation = serializers.CharField(source="organisation.code")
    organisation_name = serializers.CharField(source="organisation.name")
    kind = serializers.CharField(source="organisation.kind")
    prefecture = serializers.CharField(
        source="organisation.prefecture_id", allow_null=True
    )
    score = serializers.FloatField()
    reason = serializers.CharField()
    matched = serializers.ListField(child=serializers.CharField())
    open_count = serializers.IntegerField()
    capacity = serializers.IntegerField(source="organisation.capacity")
    experts = ExpertSuggestionSerializer(many=True)
