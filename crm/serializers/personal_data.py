"""Serializers of the personal-data (APPI) endpoints: shapes only."""

from rest_framework import serializers

from crm.models import RetentionPolicy


class RetentionPolicySerializer(serializers.ModelSerializer):
    """The acting organisation's retention policy (保存期間)."""

    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = RetentionPolicy
        fields = ["organisation", "years_after_close", "is_active"]
        read_only_fields = fields


class RetentionPolicyInputSerializer(serializers.Serializer):
    """Body of PUT retention-policy/ (ranges are checked by the service)."""

    years_after_close = serializers.JSONField(
        required=False, help_text="案件終了の翌年度から数えて保存する年度数（1–30）"
    )
    is_active = serializers.JSONField(required=False, help_text="true / false")


class LegalHoldInputSerializer(serializers.Serializer):
    """Body of POST cases/{id}/legal-hold/."""

    on = serializers.JSONField(help_text="true で法的保全を設定、false で解除")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="理由（設定時は必須）",
    )


class LegalHoldSerializer(serializers.Serializer):
    """A case's legal hold."""

    id = serializers.IntegerField()
    is_on_legal_hold = serializers.BooleanField()
    legal_hold_reason = serializers.CharField()
    legal_hold_at = serializers.DateTimeField(allow_null=True)


class EraseInputSerializer(serializers.Serializer):
    """Body of POST contacts/{id}/erase/."""

    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="請求の内容・理由"
    )


class EraseSerializer(serializers.Serializer):
    """The answer of an erase: what was done, counted (never the values)."""

    id = serializers.IntegerField()
    erased = serializers.BooleanField()
    counts = serializers.DictField(child=serializers.IntegerField())
