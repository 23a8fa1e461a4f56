"""API views of satisfaction surveys: settings (org admin) and the list (managers)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.surveys import SurveyFilter
from crm.permissions import survey_settings_require_manageable
from crm.selectors.surveys import surveys_visible_to
from crm.serializers.surveys import SurveySerializer, SurveySettingsSerializer
from crm.services.surveys import (
    survey_outcome_confirm,
    survey_settings_get,
    survey_settings_update,
)

FORBIDDEN = OpenApiResponse(description="not_permitted: 組織管理者だけ")


class SurveySettingsView(ActorMixin, APIView):
    """The acting organisation's survey settings (org admins)."""

    def _require_admin(self):
        survey_settings_require_manageable(self.actor)

    @extend_schema(
        tags=["surveys"],
        parameters=[ORGANISATION_HEADER],
        summary="満足度調査の設定を見る（組織管理者）",
        responses={200: SurveySettingsSerializer, 403: FORBIDDEN},
    )
    def get(self, request):
        self._require_admin()
        row = survey_settings_get(self.actor.organisation)
        return Response(SurveySettingsSerializer(row).data)

    @extend_schema(
        tags=["surveys"],
        parameters=[ORGANISATION_HEADER],
        summary="満足度調査の設定を変更する（組織管理者）",
        request=SurveySettingsSerializer,
        responses={200: SurveySettingsSerializer, 403: FORBIDDEN},
    )
    def put(self, request):
        self._require_admin()
        serializer = SurveySettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        row = survey_settings_update(actor=self.actor, **serializer.validated_data)
        return Response(SurveySettingsSerializer(row).data)


@extend_schema(tags=["surveys"], parameters=[ORGANISATION_HEADER])
class SurveyViewSet(ActorMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The acting organisation's surveys with answers and comments (managers, org admins)."""

    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    pagination_class = keyset_pagination("-due_on", "-id")

    def get_queryset(self):
        return surveys_visible_to(self.actor)

    @extend_schema(
        summary="回答の「その後に出願した」を成果（出願）として記録する",
        description=(
            "企業等が回答した出願番号で、相談（紹介）の案件に成果を記録します。"
            "409 no_filing（出願番号なし）、already_confirmed（記録済み）。"
        ),
        request=None,
        responses={200: SurveySerializer},
    )
    @action(detail=True, methods=["post"], url_path="confirm-outcome")
    def confirm_outcome(self, request, pk=None):
        survey = self.get_object()
        survey = survey_outcome_confirm(actor=self.actor, survey=survey)
        return Response(SurveySerializer(survey).data)
