"""API views of follow-ups: list, complete and change (due date, content, assignee)."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.follow_ups import FollowUpFilter
from crm.selectors.visibility import (
    follow_ups_visible_to,
)
from crm.serializers.follow_ups import FollowUpSerializer, FollowUpUpdateSerializer
from crm.services.corrections import follow_up_update
from crm.services.follow_ups import follow_up_complete
from crm.views.common import ERROR_RESPONSES
from crm.views.common import FORBIDDEN_RECORD_CHANGE as FORBIDDEN
from support_network.errors import ValidationFailed


def _user_or_400(user_id: int, message: str):
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed(message, field="assignee")
    return user


@extend_schema(tags=["follow-ups"], parameters=[ORGANISATION_HEADER])
class FollowUpViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-ups of visible cases (assignee=me for one's own)."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = keyset_pagination("due_on", "id")

    def get_queryset(self):
        return follow_ups_visible_to(self.actor)

    @extend_schema(
        summary="フォローアップを完了にする",
        request=None,
        responses={200: FollowUpSerializer},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        follow_up = self.get_object()
        follow_up = follow_up_complete(actor=self.actor, follow_up=follow_up)
        return Response(FollowUpSerializer(follow_up).data)

    @extend_schema(
        summary="フォローアップの期日・内容・担当者を変更する",
        request=FollowUpUpdateSerializer,
        responses={200: FollowUpSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def partial_update(self, request, *args, **kwargs):
        follow_up = self.get_object()
        serializer = FollowUpUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "assignee" in data:
            data["assignee"] = _user_or_400(
                data["assignee"],
                _("担当者はフォローアップの組織の職員から選んでください。"),
            )
        follow_up = follow_up_update(
            actor=self.actor, follow_up=follow_up, **data
        )
        return Response(FollowUpSerializer(follow_up).data)
