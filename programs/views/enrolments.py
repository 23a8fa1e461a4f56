"""API of enrolments: apply, refer, transition, plans and support days.

Thin adapters over programs/selectors.py and programs/services/.
"""

from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from programs import selectors
from programs.filters import EnrolmentFilter
from programs.models import Enrolment, SupportPlan
from programs.serializers import (
    EnrolmentInputSerializer,
    EnrolmentSerializer,
    EnrolmentTransitionInputSerializer,
    SupportDayInputSerializer,
    SupportDaySerializer,
    SupportPlanInputSerializer,
    SupportPlanSerializer,
)
from programs.services.enrolments import enrolment_apply, enrolment_transition
from programs.services.referrals import enrolment_refer
from programs.services.support_days import support_days_log, support_plan_save
from programs.views.responses import BAD_INPUT, FORBIDDEN, NOT_FOUND


@extend_schema_view(
    list=extend_schema(summary="事業への参加の一覧"),
    retrieve=extend_schema(
        summary="事業への参加の詳細",
        responses={200: EnrolmentSerializer, 404: NOT_FOUND},
    ),
)
@extend_schema(tags=["enrolments"], parameters=[ORGANISATION_HEADER])
class EnrolmentViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Enrolments in programs the caller may see, newest first."""

    # Only tells the schema generator the model: requests use get_queryset().
    queryset = Enrolment.objects.none()
    serializer_class = EnrolmentSerializer
    filterset_class = EnrolmentFilter
    pagination_class = keyset_pagination("-id")

    def get_queryset(self):
        return selectors.enrolments_visible_to(self.actor).prefetch_related(
            Prefetch("plans", queryset=SupportPlan.objects.order_by("period"))
        )

    def _output(self, enrolment, status_code=status.HTTP_200_OK) -> Response:
        enrolment = self.get_queryset().get(pk=enrolment.pk)
        return Response(EnrolmentSerializer(enrolment).data, status=status_code)

    @extend_schema(
        summary="支援事業に申し込む",
        request=EnrolmentInputSerializer,
        responses={
            201: EnrolmentSerializer,
            400: OpenApiResponse(
                description=(
                    'not_eligible（対象外、理由は detail）、{"fiscal_year": [...]}'
                    "（募集回なし: no_round）、その他の入力エラー"
                )
            ),
            403: FORBIDDEN,
            409: OpenApiResponse(
                description=(
                    "already_enrolled: 同じ募集回に申込済み / consent_required: "
                    "referral 付きで、実施機関への第三者提供の同意がない / "
                    "already_referred: 実施機関へ紹介中"
                )
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = EnrolmentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        referral = data.pop("referral", None)
        if referral:
            enrolment = enrolment_refer(actor=self.actor, **data, **referral)
        else:
            enrolment = enrolment_apply(actor=self.actor, **data)
        return self._output(enrolment, status.HTTP_201_CREATED)

    @extend_schema(
        summary="参加の状態を変更する（実施機関のコーディネーター・管理者）",
        request=EnrolmentTransitionInputSerializer,
        responses={
            200: EnrolmentSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="invalid_transition（変更できない状態）/ round_full（採択枠が満杯）"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        enrolment = self.get_object()
        serializer = EnrolmentTransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        enrolment_transition(
            actor=self.actor, enrolment=enrolment, **serializer.validated_data
        )
        return self._output(enrolment)

    @extend_schema(
        summary="当期の支援計画を登録・更新する",
        request=SupportPlanInputSerializer,
        responses={
            200: SupportPlanSerializer,
            201: SupportPlanSerializer,
            400: BAD_INPUT,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="enrolment_not_active: 採択・支援中でない参加"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        enrolment = self.get_object()
        serializer = SupportPlanInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan, created = support_plan_save(
            actor=self.actor, enrolment=enrolment, **serializer.validated_data
        )
        return Response(
            SupportPlanSerializer(plan).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="支援日を記録する",
        request=SupportDayInputSerializer,
        responses={
            201: SupportDaySerializer,
            400: OpenApiResponse(
                description=(
                    "quota_exceeded（日数の上限超過、remaining_days に残り）/ "
                    "plan_required（支援計画が未登録）/ 入力エラー"
                )
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(description="enrolment_not_active: 支援中でない参加"),
        },
    )
    @action(detail=True, methods=["post"], url_path="support-days")
    def support_days(self, request, pk=None):
        enrolment = self.get_object()
        serializer = SupportDayInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        support_day = support_days_log(
            actor=self.actor, enrolment=enrolment, **serializer.validated_data
        )
        return Response(
            SupportDaySerializer(support_day).data, status=status.HTTP_201_CREATED
        )
