"""Statistics API (API.md `statistics/…`): thin adapters over crm.statistics."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ActorMixin
from crm.statistics.consultations import consultation_statistics
from crm.statistics.dimensions import CONSULTATION_DIMENSIONS, REFERRAL_DIMENSIONS
from crm.statistics.events import EVENT_DIMENSIONS, event_statistics
from crm.statistics.outcomes import outcome_statistics
from crm.statistics.referrals import referral_statistics
from crm.statistics.surveys import SURVEY_DIMENSIONS, survey_statistics
from support_network.calendar import fiscal_year_parse


class StatisticsSerializer(serializers.Serializer):
    """The shape every statistics endpoint returns."""

    fiscal_year = serializers.IntegerField()
    fiscal_year_label = serializers.CharField()
    group_by = serializers.ListField(child=serializers.CharField())
    filters = serializers.DictField()
    scope = serializers.DictField(help_text="level: nation|region|organisation, label")
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="each dimension as its code with <dimension>_label beside it, "
        "then the measures",
    )
    totals = serializers.DictField()


def statistics_parameters(dimensions) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "fiscal_year", OpenApiTypes.INT, description="年度（既定: 今年度）"
        ),
        OpenApiParameter(
            "group_by",
            OpenApiTypes.STR,
            description="集計軸のカンマ区切り: " + ", ".join(dimensions),
        ),
        OpenApiParameter(
            "scope",
            OpenApiTypes.STR,
            enum=["reach", "organisation"],
            description="reach（担当範囲全体、既定）または organisation（自組織のみ）",
        ),
        *(
            OpenApiParameter(d, OpenApiTypes.STR, description=f"{d} で絞り込み")
            for d in dimensions
        ),
    ]


class StatisticsView(ActorMixin, APIView):
    """GET: measures for one fiscal year grouped by the requested dimensions."""

    dimensions: ClassVar[tuple[str, ...]] = ()
    compute: ClassVar[Any] = None

    def arguments(self, request) -> dict[str, Any]:
        params = request.query_params
        return {
            "actor": self.actor,
            "fiscal_year": fiscal_year_parse(params.get("fiscal_year")),
            "group_by": params.get("group_by", ""),
            "scope": params.get("scope") or None,
            "filters": {d: params[d] for d in self.dimensions if d in params},
        }

    def get(self, request, *args, **kwargs):
        return Response(type(self).compute(**self.arguments(request)))


RESPONSES = {
    200: StatisticsSerializer,
    400: OpenApiResponse(description='入力エラー {"group_by": ["…"]}'),
    403: OpenApiResponse(description="統計を閲覧できない役割（専門家）"),
}


class ConsultationStatisticsView(StatisticsView):
    dimensions = CONSULTATION_DIMENSIONS
    compute = staticmethod(consultation_statistics)

    def arguments(self, request) -> dict[str, Any]:
        measures = request.query_params.get("measures", "")
        return {**super().arguments(request), "measures": measures.split(",")}

    @extend_schema(
        operation_id="statistics_consultations",
        summary="相談統計（年度・集計軸別）",
        parameters=[
            *statistics_parameters(CONSULTATION_DIMENSIONS),
            OpenApiParameter(
                "measures",
                OpenApiTypes.STR,
                description="追加の指標（カンマ区切り）: yorozu_links, first_filers",
            ),
        ],
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReferralStatisticsView(StatisticsView):
    dimensions = REFERRAL_DIMENSIONS
    compute = staticmethod(referral_statistics)

    @extend_schema(
        operation_id="statistics_referrals",
        summary="紹介統計（状態別件数・受入率・回答までの営業日数の中央値）",
        parameters=statistics_parameters(REFERRAL_DIMENSIONS),
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OutcomeStatisticsView(StatisticsView):
    dimensions = ()
    compute = staticmethod(outcome_statistics)

    @extend_schema(
        operation_id="statistics_outcomes",
        summary="成果の指標（相談後の出願・ライセンス契約・資金調達額、年度）",
        description=(
            "totals: filings_after_consultation, licences, financings, "
            "funds_raised_yen（年度内の成果で、記録した組織が担当範囲にあり、"
            "その日以前に相談のあった案件のもの）。集計軸はありません。"
        ),
        parameters=statistics_parameters(()),
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class EventStatisticsView(StatisticsView):
    dimensions = ()
    compute = staticmethod(event_statistics)

    @extend_schema(
        operation_id="statistics_events",
        summary="イベント統計（開催数・参加者・参加企業・参加後90日以内に相談した企業）",
        description=(
            "共催のイベントは合計では1件、organisation 別では主催・共催の各組織に"
            "1件ずつ数えます。measures: events, registrations, attendees, companies, "
            "companies_consulted_after, companies_filed_after。"
        ),
        parameters=statistics_parameters(EVENT_DIMENSIONS)[:3],
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SurveyStatisticsView(StatisticsView):
    dimensions = ()
    compute = staticmethod(survey_statistics)

    @extend_schema(
        operation_id="statistics_surveys",
        summary="満足度調査の統計（送信・回答・回答率・平均点・満足の割合）",
        description=(
            "measures: sent, responses, response_rate, score_mean, satisfied_share"
            "（4〜5点の割合）。from_organisation では紹介後の調査だけを紹介元別に数えます。"
            "自由記述は含みません。"
        ),
        parameters=statistics_parameters(SURVEY_DIMENSIONS)[:3],
        responses=RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
