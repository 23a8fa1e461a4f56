"""API of programs: the programs with their rules and rounds, the subsidy estimate."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from programs.models import Program
from programs.serializers import (
    EstimateInputSerializer,
    EstimateSerializer,
    ProgramSerializer,
)
from programs.services.subsidies import subsidy_estimate
from programs.views.responses import BAD_INPUT, NOT_FOUND


@extend_schema_view(
    list=extend_schema(summary="支援事業の一覧（ルールと年度ごとの募集回）"),
    retrieve=extend_schema(
        summary="支援事業の詳細", responses={200: ProgramSerializer, 404: NOT_FOUND}
    ),
)
@extend_schema(tags=["programs"], parameters=[ORGANISATION_HEADER])
class ProgramViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Support programs with their rules as data and their fiscal-year rounds."""

    serializer_class = ProgramSerializer
    pagination_class = keyset_pagination("code")
    lookup_field = "code"

    def get_queryset(self):
        return (
            Program.objects.filter(is_active=True)
            .select_related("operator")
            .prefetch_related("rounds")
            .order_by("code")
        )

    @extend_schema(
        summary="補助金を見積もる",
        description=(
            "補助率を掛けて円未満を切り捨て、1件上限・1企業上限を適用した補助見込額。"
            "補助金でない事業は 400 not_eligible。"
        ),
        request=EstimateInputSerializer,
        responses={200: EstimateSerializer, 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def estimate(self, request, code=None):
        program = self.get_object()
        serializer = EstimateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = subsidy_estimate(
            actor=self.actor, program=program, **serializer.validated_data
        )
        return Response(EstimateSerializer(result).data)
