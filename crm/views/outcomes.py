"""API views of outcomes: list, detail, record, correct and void (取消)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.outcomes import OutcomeFilter
from crm.selectors.visibility import (
    cases_visible_to,
    outcomes_visible_to,
)
from crm.serializers.consultations import VoidSerializer
from crm.serializers.outcomes import (
    OutcomeInputSerializer,
    OutcomeSerializer,
    OutcomeUpdateSerializer,
)
from crm.services.cases import outcome_record
from crm.services.corrections import outcome_update, outcome_void
from crm.views.common import ERROR_RESPONSES, visible_or_400
from crm.views.common import FORBIDDEN_RECORD_CHANGE as FORBIDDEN


@extend_schema(tags=["outcomes"], parameters=[ORGANISATION_HEADER])
class OutcomeViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Outcomes (filings, registrations, licences, financing, subsidies) of visible cases."""

    serializer_class = OutcomeSerializer
    filterset_class = OutcomeFilter
    pagination_class = keyset_pagination("-occurred_on", "-id")

    def get_queryset(self):
        return outcomes_visible_to(self.actor).select_related("organisation")

    @extend_schema(
        summary="成果を記録する",
        request=OutcomeInputSerializer,
        responses={201: OutcomeSerializer, **ERROR_RESPONSES},
    )
    def create(self, request, *args, **kwargs):
        serializer = OutcomeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["case"] = visible_or_400(
            cases_visible_to(self.actor),
            data["case"],
            "case",
            _("案件が見つかりません。"),
        )
        outcome = outcome_record(actor=self.actor, **data)
        return Response(OutcomeSerializer(outcome).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="成果を訂正する",
        request=OutcomeUpdateSerializer,
        responses={200: OutcomeSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def partial_update(self, request, *args, **kwargs):
        outcome = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = OutcomeUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = outcome_update(
            actor=self.actor, outcome=outcome, **serializer.validated_data
        )
        return Response(OutcomeSerializer(outcome).data)

    @extend_schema(
        summary="成果を取り消す",
        request=VoidSerializer,
        responses={204: None, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def destroy(self, request, *args, **kwargs):
        outcome = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome_void(
            actor=self.actor, outcome=outcome, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
