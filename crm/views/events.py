"""API views of network events: public facts, registrations and attendance."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.events import EventFilter
from crm.selectors.events import event_attendees_visible_to, events_visible_to
from crm.selectors.visibility import companies_visible_to
from crm.serializers.events import (
    AttendeeInputSerializer,
    AttendeeSerializer,
    AttendInputSerializer,
    EventInputSerializer,
    EventSerializer,
    EventUpdateSerializer,
)
from crm.services.events import (
    attendee_attend,
    attendee_register,
    event_create,
    event_update,
)
from crm.views.common import ERROR_RESPONSES, visible_or_400

FORBIDDEN = OpenApiResponse(
    description="not_permitted: 主催組織（出欠は主催・共催組織）だけが変更できる"
)
FULL = OpenApiResponse(
    description="event_full: 定員に達している / already_registered: 登録済み"
)


@extend_schema(tags=["events"], parameters=[ORGANISATION_HEADER])
class EventViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Network events (公開情報は全構成員、参加者は主催・共催組織だけ), newest first."""

    serializer_class = EventSerializer
    filterset_class = EventFilter
    pagination_class = keyset_pagination("-starts_at", "-id")

    def get_queryset(self):
        return events_visible_to(self.actor)

    def _event(self, pk):
        return get_object_or_404(self.get_queryset(), pk=pk)

    @extend_schema(
        summary="イベントを登録する（主催組織）",
        request=EventInputSerializer,
        responses={201: EventSerializer, **ERROR_RESPONSES},
    )
    def create(self, request, *args, **kwargs):
        serializer = EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = event_create(actor=self.actor, **serializer.validated_data)
        body = EventSerializer(self._event(event.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="イベントを変更する（主催組織）",
        request=EventUpdateSerializer,
        responses={200: EventSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def partial_update(self, request, *args, **kwargs):
        event = self._event(kwargs["pk"])
        serializer = EventUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        event_update(actor=self.actor, event=event, fields=serializer.validated_data)
        return Response(EventSerializer(self._event(event.pk)).data)

    @extend_schema(
        methods=["GET"],
        summary="参加登録の一覧（主催・共催組織だけ。他の組織には空）",
        request=None,
        responses={200: AttendeeSerializer(many=True), 404: ERROR_RESPONSES[404]},
    )
    @extend_schema(
        methods=["POST"],
        summary="企業等をイベントに参加登録する",
        request=AttendeeInputSerializer,
        responses={201: AttendeeSerializer, **ERROR_RESPONSES, 409: FULL},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def attendees(self, request, pk=None):
        event = self._event(pk)
        if request.method == "GET":
            rows = event_attendees_visible_to(self.actor, event)
            return Response(AttendeeSerializer(rows, many=True).data)
        serializer = AttendeeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        company = visible_or_400(
            companies_visible_to(self.actor),
            data.pop("company"),
            "company",
            _("企業等が見つかりません。"),
        )
        attendee = attendee_register(
            actor=self.actor, event=event, company=company, **data
        )
        return Response(
            AttendeeSerializer(attendee).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="出席を記録する（主催・共催組織）",
        description="本文 attended: false で出席の記録を取り消します。",
        request=AttendInputSerializer,
        responses={200: AttendeeSerializer, 404: ERROR_RESPONSES[404], 403: FORBIDDEN},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"attendees/(?P<aid>[0-9]+)/attend",
        url_name="attendee-attend",
    )
    def attend(self, request, pk=None, aid=None):
        event = self._event(pk)
        attendee = get_object_or_404(
            event_attendees_visible_to(self.actor, event), pk=aid
        )
        serializer = AttendInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attendee = attendee_attend(
            actor=self.actor,
            attendee=attendee,
            is_attended=serializer.validated_data["attended"],
        )
        return Response(AttendeeSerializer(attendee).data)
