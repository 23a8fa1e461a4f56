"""API views of the in-app notifications of the acting user."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import keyset_pagination
from crm.models import Notification
from crm.serializers.notifications import NotificationSerializer
from crm.services.notifications import notification_read
from crm.views.common import ERROR_RESPONSES
from support_network.actors import Actor


@extend_schema_view(
    list=extend_schema(summary="自分宛ての通知の一覧（新しい順）"),
    retrieve=extend_schema(
        summary="通知の詳細", responses={200: NotificationSerializer, **ERROR_RESPONSES}
    ),
)
@extend_schema(tags=["notifications"])
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own in-app notifications, whatever organisation they act for."""

    serializer_class = NotificationSerializer
    pagination_class = keyset_pagination("-created_at", "-id")

    def get_queryset(self):
        return Notification.objects.filter(recipient_id=self.request.user.pk)

    @extend_schema(
        summary="通知を既読にする",
        request=None,
        responses={200: NotificationSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        notification = notification_read(
            actor=Actor(user=request.user), notification=notification
        )
        return Response(NotificationSerializer(notification).data)
