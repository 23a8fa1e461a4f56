"""API shapes of referrals. Shape only: consent and rules are in crm/services/."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import (
    Topic,
)
from crm.models import (
    Referral,
)


class ReferralInputSerializer(serializers.Serializer):
    """POST referrals/ (API.md). Shape only; consent and rules are in the service."""

    case = serializers.IntegerField(min_value=1)
    to_organisation = serializers.CharField(
        max_length=60, help_text=_("紹介先の組織コード")
    )
    reason = serializers.CharField(allow_blank=True, max_length=5000)
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices),
        allow_empty=True,
        max_length=18,
    )
    contacts = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=50,
        help_text=_("紹介先に伝える担当者（この企業等の担当者のID）"),
    )


class ReferralNoteSerializer(serializers.Serializer):
    """POST referrals/{id}/accept|decline|cancel/."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class ReferralCompleteSerializer(serializers.Serializer):
    """POST referrals/{id}/complete/: the outcome note goes back to the sender."""

    outcome_note = serializers.CharField(allow_blank=True, max_length=5000)


class ReferralSerializer(serializers.ModelSerializer):
    """A referral as its parties see it (the case itself follows the case rules)."""

    company = serializers.IntegerField(source="case.company_id", read_only=True)
    company_name = serializers.CharField(source="case.company.name", read_only=True)
    from_organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    from_organisation_name = serializers.CharField(
        source="from_organisation.name", read_only=True
    )
    to_organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_organisation_name = serializers.CharField(
        source="to_organisation.name", read_only=True
    )
    direction = serializers.SerializerMethodField(
        help_text="in: 自組織宛て / out: 自組織から / other"
    )
    topics = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_overdue = serializers.SerializerMethodField(
        help_text="回答待ちのまま回答期限を過ぎている"
    )
    completed_by = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "id",
            "case",
            "company",
            "company_name",
            "from_organisation",
            "from_organisation_name",
            "to_organisation",
            "to_organisation_name",
            "direction",
            "sent_by",
            "sent_at",
            "reason",
            "topics",
            "status",
            "status_label",
            "respond_by",
            "is_overdue",
            "answered_at",
            "answered_by",
            "answer_note",
            "assignee",
            "completed_at",
            "completed_by",
            "outcome_note",
            "closed_at",
            "closed_by",
            "reminded_at",
            "escalated_at",
            "consent",
        ]
        read_only_fields = fields

    def get_direction(self, obj) -> str:
        return getattr(obj, "direction", "other")

    def get_topics(self, obj) -> list[str]:
        return [t.topic for t in obj.topics.all()]

    def get_is_overdue(self, obj) -> bool:
        return obj.is_overdue_on(timezone.localdate())

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_completed_by(self, obj):
        return getattr(obj, "completed_by", None)
