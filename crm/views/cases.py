"""API views of cases: list, detail, assign, close, reopen and referral suggestions."""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.cases import CaseFilter
from crm.selectors.companies import company_cases_visible_to
from crm.selectors.suggestions import referral_suggestions
from crm.selectors.visibility import (
    cases_visible_to,
    consultations_visible_to,
)
from crm.serializers.cases import (
    CaseAssignInputSerializer,
    CaseDetailSerializer,
    CaseNoteSerializer,
    CaseSerializer,
    ReferralSuggestionSerializer,
)
from crm.serializers.personal_data import LegalHoldInputSerializer, LegalHoldSerializer
from crm.services.assignment import case_assign
from crm.services.audit import audit_record
from crm.services.cases import case_close, case_reopen
from crm.services.retention import case_legal_hold_set
from crm.views.common import CONFLICT_TRANSITION, ERROR_RESPONSES
from crm.views.common import FORBIDDEN_RECORD_CHANGE as FORBIDDEN
from support_network.errors import ValidationFailed


def _status_change_schema(summary: str, description: str):
    """The OpenAPI description shared by cases/{id}/close/ and reopen/."""
    return extend_schema(
        summary=summary,
        description=description,
        request=CaseNoteSerializer,
        responses={
            200: CaseSerializer,
            **ERROR_RESPONSES,
            403: FORBIDDEN,
            409: CONFLICT_TRANSITION,
        },
    )


@extend_schema(tags=["cases"], parameters=[ORGANISATION_HEADER])
class CaseViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cases the caller may see; the detail holds the timeline."""

    filterset_class = CaseFilter
    pagination_class = keyset_pagination("-opened_on", "-id")

    def get_queryset(self):
        return cases_visible_to(self.actor)

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(responses={200: CaseDetailSerializer, **ERROR_RESPONSES})
    def retrieve(self, request, *args, **kwargs):
        case = get_object_or_404(
            self.get_queryset().prefetch_related(
                "referrals__from_organisation",
                "referrals__to_organisation",
                "follow_ups",
                "outcomes",
            ),
            pk=kwargs["pk"],
        )
        consultations = (
            consultations_visible_to(self.actor)
            .filter(case=case)
            .prefetch_related("topics", "ip_types", "attendees")
            .order_by("-occurred_at", "-id")
        )
        audit_record(actor=self.actor, action="case.view", obj=case)
        context = {
            **self.get_serializer_context(),
            "visible_consultations": consultations,
            "other_cases": company_cases_visible_to(
                self.actor, case.company
            ).exclude(pk=case.pk),
        }
        return Response(CaseDetailSerializer(case, context=context).data)

    @extend_schema(
        summary="案件の担当者を割り当てる",
        description=(
            "案件を担当する組織のコーディネーター・管理者・組織管理者が、"
            "同じ組織の職員を担当者にします。監査ログに記録し、担当者に通知します。"
        ),
        request=CaseAssignInputSerializer,
        responses={
            200: CaseSerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="割り当ての権限がない"),
        },
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        case = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = CaseAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignee = (
            get_user_model()
            .objects.filter(pk=serializer.validated_data["assignee"])
            .first()
        )
        if assignee is None:
            raise ValidationFailed(
                _("担当者は案件を担当する組織の職員から選んでください。"),
                field="assignee",
            )
        case = case_assign(actor=self.actor, case=case, assignee=assignee)
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)

    def _status_change(self, pk, service):
        case = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = CaseNoteSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        case = service(actor=self.actor, case=case, **serializer.validated_data)
        return Response(CaseSerializer(self.get_queryset().get(pk=case.pk)).data)

    @_status_change_schema(
        "案件を完了にする（完了メモ付き）",
        "案件を担当する組織のコーディネーター・管理者・組織管理者が行います。",
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._status_change(pk, case_close)

    @_status_change_schema(
        "完了した案件を再開する",
        "案件を担当する組織のコーディネーター・管理者・組織管理者が行います。",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._status_change(pk, case_reopen)

    @extend_schema(
        summary="紹介先の候補",
        description=(
            "相談分野と組織の専門分野、都道府県・地域の近さ、受入中の件数と"
            "受入可能件数から、紹介先の候補を順位付けして理由とともに返します。"
            "topics を省くと案件の相談記録の分野を使います。"
        ),
        parameters=[
            OpenApiParameter(
                "topics",
                OpenApiTypes.STR,
                description=(
                    "カンマ区切りの分野スラッグ（相談分野のほか management, "
                    "drafting, unfair_dealing, counterfeit, academia）"
                ),
            )
        ],
        responses={200: ReferralSuggestionSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="referral-suggestions",
        pagination_class=None,
    )
    def referral_suggestions(self, request, pk=None):
        case = get_object_or_404(self.get_queryset(), pk=pk)
        topics = request.query_params.get("topics", "").split(",")
        suggestions = referral_suggestions(self.actor, case, topics)
        return Response(ReferralSuggestionSerializer(suggestions, many=True).data)

    @extend_schema(
        summary="法的保全を設定・解除する",
        description=(
            "法的保全中の案件は保存期間を過ぎても匿名化されません。"
            "案件を担当する組織の管理者・組織管理者が行います。"
        ),
        request=LegalHoldInputSerializer,
        responses={200: LegalHoldSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    @action(detail=True, methods=["post"], url_path="legal-hold")
    def legal_hold(self, request, pk=None):
        case = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = LegalHoldInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_legal_hold_set(
            actor=self.actor,
            case=case,
            on=serializer.validated_data["on"],
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response(LegalHoldSerializer(case).data)

