"""API shapes of referrals, provision records and notifications. Shape only: rules live in crm/services/."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import (
    Topic,
)
from crm.models import (
    Notification,
    Referral,
)
from crm.services.referrals import PROVIDED_ITEM_LABELS


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


class ProvisionRecordSerializer(serializers.Serializer):
    """An APPI art. 29 record of a provision to a third party."""

    id = serializers.IntegerField()
    referral = serializers.IntegerField(source="referral_id")
    provided_on = serializers.DateField()
    provider = serializers.CharField(source="provider.code")
    recipient = serializers.CharField(source="recipient.code")
    recipient_name = serializers.CharField(source="recipient.name")
    company = serializers.IntegerField(source="company_id")
    company_name = serializers.CharField(source="company.name")
    corporate_number = serializers.CharField(
        source="company.corporate_number", allow_null=True
    )
    contacts = serializers.SerializerMethodField()
    items_shared = serializers.ListField(child=serializers.CharField())
    items_shared_labels = serializers.SerializerMethodField()
    consent = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(
        serializers.ListField(
            child=serializers.DictField(child=serializers.CharField())
        )
    )
    def get_contacts(self, obj):
        return [{"id": c.pk, "name": c.name} for c in obj.contacts.all()]

    def get_items_shared_labels(self, obj) -> list[str]:
        return [str(PROVIDED_ITEM_LABELS.get(i, i)) for i in obj.items_shared]

    @extend_schema_field(serializers.DictField())
    def get_consent(self, obj):
        consent = obj.consent
        return {
            "id": consent.pk,
            "scope": consent.scope,
            "obtained_on": consent.obtained_on.isoformat(),
            "method": consent.method,
            "withdrawn_at": consent.withdrawn_at.isoformat()
            if consent.withdrawn_at
            else None,
        }


class NotificationObjectSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField(allow_null=True)


class NotificationSerializer(serializers.ModelSerializer):
    """GET notifications/ (API.md): kind, message, object, created_at, read_at."""

    object = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "object", "created_at", "read_at"]
        read_only_fields = fields

    @extend_schema_field(NotificationObjectSerializer(allow_null=True))
    def get_object(self, obj):
        if not obj.object_type:
            return None
        return {
            "type": obj.object_type,
            "id": int(obj.object_id) if obj.object_id.isdigit() else None,
        }
