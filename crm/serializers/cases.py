"""API shapes of cases: the case, its detail page, notes, assignment and referral suggestions.

Shape only: rules live in crm/services/.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import (
    Case,
    Referral,
)
from crm.serializers.consultations import ConsultationSerializer
from crm.serializers.follow_ups import FollowUpSerializer
from crm.serializers.outcomes import OutcomeSerializer


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
            "is_on_legal_hold",
            "anonymised_at",
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


class CaseNoteSerializer(serializers.Serializer):
    """POST cases/{id}/close/ and reopen/."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


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
