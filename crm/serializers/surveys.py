"""API shapes of satisfaction surveys and their settings. Shape only."""

from rest_framework import serializers

from crm.models import Survey, SurveySettings


class SurveySettingsSerializer(serializers.ModelSerializer):
    after_consultation_business_days = serializers.IntegerField(
        min_value=0, max_value=30, required=False, help_text="0 = 送らない"
    )

    class Meta:
        model = SurveySettings
        fields = [
            "after_consultation_business_days",
            "after_referral_completed",
            "after_enrolment_completed",
        ]
        extra_kwargs = {
            "after_referral_completed": {"required": False},
            "after_enrolment_completed": {"required": False},
        }


class SurveySerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    from_organisation = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    company_name = serializers.CharField(source="company.name", read_only=True)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = [
            "id",
            "organisation",
            "from_organisation",
            "company",
            "company_name",
            "source",
            "consultation",
            "referral",
            "status",
            "skipped_reason",
            "due_on",
            "sent_at",
            "expires_at",
            "answered_at",
            "score",
            "useful",
            "comment",
            "filed_after",
            "application_number",
            "outcome",
        ]
        read_only_fields = fields

    def get_status(self, obj) -> str:
        """scheduled, sent, answered, expired (sent, unanswered, past due) or skipped."""
        from django.utils import timezone

        if obj.status == Survey.Status.SENT and obj.expires_at <= timezone.now():
            return "expired"
        if obj.status == Survey.Status.SENDING:
            return Survey.Status.SCHEDULED  # its e-mail has not gone out yet
        return obj.status
