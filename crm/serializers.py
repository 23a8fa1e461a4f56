"""API shapes of clients and cases. Shape only: rules live in crm/services.py."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.choices import (
    Channel,
    CompanyKind,
    ConsentMethod,
    ConsentScope,
    IpType,
    OutcomeKind,
    Topic,
)
from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    Contact,
    FollowUp,
    Notification,
    Outcome,
    Referral,
)
from crm.services.consultations import MAX_DURATION_MINUTES
from crm.services.referrals import PROVIDED_ITEM_LABELS

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


class ConsentInputSerializer(serializers.Serializer):
    """POST companies/{id}/consents/ (API.md)."""

    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    organisations = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, max_length=200
    )
    obtained_on = serializers.DateField()
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    contact = serializers.IntegerField(min_value=1, required=False, allow_null=True)


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
            "organisation",
            "is_active",
            "withdrawn_at",
            "created_at",
        ]
        read_only_fields = fields


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
        ]
        read_only_fields = fields


# --- Referrals, provision records, notifications, assignment (issue 4) -------

# Imported here, beside the classes that use them, so this block stays one
# append-only section of the module.


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
