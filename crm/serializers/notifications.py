"""API shapes of in-app notifications."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import (
    Notification,
)


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
