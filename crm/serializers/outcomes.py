"""API shapes of outcomes. Shape only: rules live in crm/services/."""

from rest_framework import serializers

from crm.choices import (
    IpType,
    OutcomeKind,
)
from crm.models import (
    Outcome,
)


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
