"""API shapes of companies, their contacts and consents. Shape only: rules live in crm/services/."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import (
    CompanyKind,
    ConsentMethod,
    ConsentScope,
)
from crm.models import (
    Company,
    Consent,
    Contact,
)

PRIVATE_COMPANY_FIELDS = (
    "industry",
    "capital_yen",
    "employees",
    "founded_on",
    "controlled_by_large_company",
    "size_class",
    "size_class_label",
    "is_startup",
)


class CompanyInputSerializer(serializers.Serializer):
    """POST/PATCH companies/ (API.md)."""

    corporate_number = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=20
    )
    name = serializers.CharField(max_length=200)
    name_kana = serializers.CharField(required=False, allow_blank=True, max_length=200)
    kind = serializers.ChoiceField(choices=CompanyKind.choices)
    prefecture = serializers.RegexField(
        r"^(0[1-9]|[1-3][0-9]|4[0-7])$",
        max_length=2,
        error_messages={"invalid": _("都道府県コード（01〜47）を入力してください。")},
    )
    city = serializers.CharField(required=False, allow_blank=True, max_length=60)
    industry = serializers.CharField(required=False, allow_blank=True, max_length=5)
    capital_yen = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10**15
    )
    employees = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=10_000_000
    )
    founded_on = serializers.DateField(required=False, allow_null=True)
    controlled_by_large_company = serializers.BooleanField(
        required=False, default=False
    )


class CompanySerializer(serializers.ModelSerializer):
    """A company. Non-public fields are present only for organisations that work with it."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    prefecture = serializers.CharField(source="prefecture_id", read_only=True)
    prefecture_label = serializers.CharField(source="prefecture.name", read_only=True)
    size_class_label = serializers.CharField(
        source="get_size_class_display", read_only=True
    )
    is_startup = serializers.BooleanField(read_only=True)
    has_private_access = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = [
            "id",
            "corporate_number",
            "name",
            "name_kana",
            "kind",
            "kind_label",
            "prefecture",
            "prefecture_label",
            "city",
            *PRIVATE_COMPANY_FIELDS,
            "has_private_access",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {name: {"required": False} for name in PRIVATE_COMPANY_FIELDS}

    @extend_schema_field(serializers.BooleanField())
    def get_has_private_access(self, obj) -> bool:
        return bool(getattr(obj, "has_private_access", False))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not getattr(instance, "has_private_access", False):
            for name in PRIVATE_COMPANY_FIELDS:
                data.pop(name, None)
        return data


class CompanyMergeInputSerializer(serializers.Serializer):
    """POST companies/{id}/merge/: the company that stays."""

    into = serializers.IntegerField(
        min_value=1, help_text=_("統合先（残す企業等）のID")
    )


class ContactInputSerializer(serializers.Serializer):
    """POST companies/{id}/contacts/, PATCH contacts/{id}/.

    Shape only: the name, e-mail and phone rules (and their Japanese
    messages) are in crm.services.contacts, so blanks pass through to it.
    """

    name = serializers.CharField(max_length=100, allow_blank=True)
    name_kana = serializers.CharField(required=False, allow_blank=True, max_length=100)
    title = serializers.CharField(required=False, allow_blank=True, max_length=100)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=30)


class ContactSerializer(serializers.ModelSerializer):
    """A contact (担当者) and the organisation that recorded it."""

    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Blank when not recorded: a plain string, not format "email" ("" is none).
    email = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "company",
            "organisation",
            "name",
            "name_kana",
            "title",
            "email",
            "phone",
            "created_at",
            "updated_at",
            "anonymised_at",
        ]
        read_only_fields = fields


class ConsentInputSerializer(serializers.Serializer):
    """POST companies/{id}/consents/ (API.md)."""

    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    organisations = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=200
    )
    obtained_on = serializers.DateField()
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    contact = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    allows_surveys = serializers.BooleanField(
        required=False,
        default=False,
        help_text="満足度調査（アンケート）の依頼に同意した",
    )


class ConsentSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisations = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Consent
        fields = [
            "id",
            "company",
            "scope",
            "organisations",
            "obtained_on",
            "method",
            "contact",
            "allows_surveys",
            "organisation",
            "is_active",
            "withdrawn_at",
            "created_at",
        ]
        read_only_fields = fields
