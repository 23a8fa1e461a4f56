"""API shapes of the APPI art. 29 provision records of referrals."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.services.referrals import PROVIDED_ITEM_LABELS


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
