"""API views of cases and what happens in them."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm import services
from crm.filters.cases import (
    CaseFilter,
    ConsultationFilter,
    FollowUpFilter,
    OutcomeFilter,
)
from crm.selectors.companies import company_cases_visible_to
from crm.selectors.suggestions import referral_suggestions
from crm.selectors.visibility import (
    cases_visible_to,
    companies_visible_to,
    consultations_visible_to,
    follow_ups_visible_to,
    outcomes_visible_to,
)
from crm.serializers.cases import (
    CaseAssignInputSerializer,
    CaseDetailSerializer,
    CaseNoteSerializer,
    CaseSerializer,
    ConsultationInputSerializer,
    ConsultationSerializer,
    ConsultationUpdateSerializer,
    FollowUpSerializer,
    FollowUpUpdateSerializer,
    OutcomeInputSerializer,
    OutcomeSerializer,
    OutcomeUpdateSerializer,
    ReferralSuggestionSerializer,
    VoidSerializer,
)
from crm.views.common import ERROR_RESPONSES, visible_or_400
from support_network.errors import ValidationFailed

FORBIDDEN = OpenApiResponse(
    description="not_permitted: 閲覧はできるが、変更の権限がない（記録した組織だけが変更できる）"
)
CONFLICT_TRANSITION = OpenApiResponse(
    description='invalid_transition: 現在の状態ではできない操作（"status" に現在の状態）'
)


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


def _user_or_400(user_id: int, message: str):
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        raise ValidationFailed(message, field="assignee")
    return user


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
        services.audit_record(actor=self.actor, action="case.view", obj=case)
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
        case = services.case_assign(actor=self.actor, case=case, assignee=assignee)
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
        return self._status_change(pk, services.case_close)

    @_status_change_schema(
        "完了した案件を再開する",
        "案件を担当する組織のコーディネーター・管理者・組織管理者が行います。",
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._status_change(pk, services.case_reopen)

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


@extend_schema(tags=["consultations"], parameters=[ORGANISATION_HEADER])
class ConsultationViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Consultation records (相談記録) the caller may see, newest first."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    pagination_class = keyset_pagination("-occurred_at", "-id")

    def get_queryset(self):
        # The serializer names the case, company and author by id only: no
        # need to load their rows (a page of 50 is ~10 ms faster without).
        return (
            consultations_visible_to(self.actor)
            .select_related(None)
            .select_related("organisation")
            .prefetch_related("topics", "ip_types", Prefetch("attendees"))
        )

    @extend_schema(
        summary="相談記録を登録する",
        request=ConsultationInputSerializer,
        responses={201: ConsultationSerializer, **ERROR_RESPONSES},
    )
    def create(self, request, *args, **kwargs):
        serializer = ConsultationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["company"] = visible_or_400(
            companies_visible_to(self.actor),
            data["company"],
            "company",
            _("企業等が見つかりません。"),
        )
        data["case"] = visible_or_400(
            cases_visible_to(self.actor),
            data.pop("case", None),
            "case",
            _("案件が見つかりません。"),
        )
        consultation = services.consultation_create(actor=self.actor, **data)
        # Serialise what the service wrote: a confidential consultation on a
        # colleague's case is recorded by an author whom rule 4 does not let
        # read it back, and re-reading costs four queries anyway.
        body = ConsultationSerializer(consultation).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="相談記録を訂正する",
        description=(
            "記録した組織（記録者、その組織のコーディネーター・管理者・組織管理者）"
            "だけが訂正できます。統計は同じトランザクションで追従します。"
        ),
        request=ConsultationUpdateSerializer,
        responses={200: ConsultationSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def partial_update(self, request, *args, **kwargs):
        consultation = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = ConsultationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consultation = services.consultation_update(
            actor=self.actor, consultation=consultation, **serializer.validated_data
        )
        return Response(ConsultationSerializer(consultation).data)

    @extend_schema(
        summary="相談記録を取り消す（取消）",
        description=(
            "一覧・経過・統計・出力から除かれ、監査ログに取消前の全項目と理由が残ります。"
            "本文の reason（任意）に取消の理由を入れられます。"
        ),
        request=VoidSerializer,
        responses={204: None, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def destroy(self, request, *args, **kwargs):
        consultation = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.consultation_void(
            actor=self.actor, consultation=consultation, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        follow_up = services.follow_up_complete(actor=self.actor, follow_up=follow_up)
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
        follow_up = services.follow_up_update(
            actor=self.actor, follow_up=follow_up, **data
        )
        return Response(FollowUpSerializer(follow_up).data)


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
        outcome = services.outcome_record(actor=self.actor, **data)
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
        outcome = services.outcome_update(
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
        services.outcome_void(
            actor=self.actor, outcome=outcome, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
