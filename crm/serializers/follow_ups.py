"""API shapes of follow-ups. Shape only: rules live in crm/services/."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.models import (
    FollowUp,
)


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


class FollowUpUpdateSerializer(serializers.Serializer):
    """PATCH follow-ups/{id}/ (API.md "Record upkeep")."""

    due_on = serializers.DateField(required=False)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)
    assignee = serializers.IntegerField(
        min_value=1, required=False, help_text=_("担当者のユーザーID")
    )
