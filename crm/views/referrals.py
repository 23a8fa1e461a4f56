"""API views of referrals: list, detail, send, accept, decline, complete, cancel and assign."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Case as CaseWhen
from django.db.models import CharField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.referrals import ReferralFilter
from crm.models import AuditEvent
from crm.selectors.visibility import (
    cases_visible_to,
    contacts_visible_to,
    referral_records_visible_to,
)
from crm.serializers.cases import CaseAssignInputSerializer
from crm.serializers.referrals import (
    ReferralCompleteSerializer,
    ReferralInputSerializer,
    ReferralNoteSerializer,
    ReferralSerializer,
)
from crm.services.referral_transitions import (
    referral_accept,
    referral_assign,
    referral_cancel,
    referral_complete,
    referral_decline,
)
from crm.services.referrals import referral_send
from crm.views.common import CONFLICT_TRANSITION, ERROR_RESPONSES, visible_or_400
from support_network.errors import ValidationFailed
from support_network.models import Organisation

FORBIDDEN = OpenApiResponse(description="閲覧はできるが、この操作の権限がない")


def _transition_schema(summary: str, request):
    """Return the OpenAPI description shared by the four transition actions."""
    return extend_schema(
        summary=summary,
        request=request,
        responses={
            200: ReferralSerializer,
            **ERROR_RESPONSES,
            403: FORBIDDEN,
            409: CONFLICT_TRANSITION,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="紹介の一覧（受信・送信）",
        description=(
            "direction=in は自組織宛て、out は自組織からの紹介。"
            "紹介先は辞退・取消・期限切れ後も紹介の記録を見られますが、"
            "案件そのものは閲覧できなくなります。"
        ),
    ),
    retrieve=extend_schema(
        summary="紹介の詳細", responses={200: ReferralSerializer, **ERROR_RESPONSES}
    ),
)
@extend_schema(tags=["referrals"], parameters=[ORGANISATION_HEADER])
class ReferralViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Closed-loop referrals between organisations."""

    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    pagination_class = keyset_pagination("-sent_at", "-id")

    def get_queryset(self):
        org = self.actor.organisation_id
        # Referral has no completed_by column; the audit event names the actor.
        completed_by = (
            AuditEvent.objects.filter(
                object_type="referral",
                object_id=Cast(OuterRef("pk"), CharField()),
                action="referral.complete",
            )
            .order_by("-at")
            .values("actor_id")[:1]
        )
        return (
            referral_records_visible_to(self.actor)
            .select_related("case__company", "from_organisation", "to_organisation")
            .prefetch_related("topics")
            .annotate(
                direction=CaseWhen(
                    When(to_organisation_id=org, then=Value("in")),
                    When(from_organisation_id=org, then=Value("out")),
                    default=Value("other"),
                    output_field=CharField(),
                ),
                completed_by=Subquery(completed_by),
            )
        )

    def _get(self, pk):
        return get_object_or_404(self.get_queryset(), pk=pk)

    def _answer(self, referral):
        return Response(ReferralSerializer(self._get(referral.pk)).data)

    @extend_schema(
        summary="案件を紹介する",
        description=(
            "紹介先を含む有効な第三者提供の同意が必要です（個人情報保護法27条）。"
            "送信すると第三者提供記録（同29条）を作成し、紹介先に通知します。"
            "回答期限は送信日の3営業日後です。"
        ),
        request=ReferralInputSerializer,
        responses={
            201: ReferralSerializer,
            **ERROR_RESPONSES,
            409: OpenApiResponse(
                description=(
                    "consent_required: 紹介先を含む同意がない（company, to_organisation）／"
                    "already_referred: 同じ組織へ紹介中（referral）"
                )
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = ReferralInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = visible_or_400(
            cases_visible_to(self.actor),
            data["case"],
            "case",
            _("案件が見つかりません。"),
        )
        to_organisation = Organisation.objects.filter(
            code=data["to_organisation"]
        ).first()
        if to_organisation is None:
            raise ValidationFailed(
                _("紹介先の組織コードが正しくありません: %(code)s")
                % {"code": data["to_organisation"]},
                field="to_organisation",
            )
        contact_ids = list(dict.fromkeys(data.get("contacts", [])))
        contacts = list(
            contacts_visible_to(self.actor).filter(pk__in=contact_ids)
        )
        if len(contacts) != len(contact_ids):
            raise ValidationFailed(_("担当者が見つかりません。"), field="contacts")
        referral = referral_send(
            actor=self.actor,
            case=case,
            to_organisation=to_organisation,
            reason=data["reason"],
            topics=data["topics"],
            contacts=contacts,
        )
        body = ReferralSerializer(self._get(referral.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _transition(self, pk, serializer_class, service):
        """Validate the body's shape, then let the one service move the referral."""
        referral = self._get(pk)
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        referral = service(
            actor=self.actor, referral=referral, **serializer.validated_data
        )
        return self._answer(referral)

    @_transition_schema("紹介を受け入れる（紹介先）", ReferralNoteSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition(pk, ReferralNoteSerializer, referral_accept)

    @_transition_schema("紹介を辞退する（紹介先）", ReferralNoteSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._transition(pk, ReferralNoteSerializer, referral_decline)

    @_transition_schema("紹介を完了にする（紹介先、結果報告を紹介元へ返す）", ReferralCompleteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(pk, ReferralCompleteSerializer, referral_complete)

    @_transition_schema("紹介を取り消す（紹介元）", ReferralNoteSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(pk, ReferralNoteSerializer, referral_cancel)

    @_transition_schema(
        "紹介先の担当者を割り当てる（紹介先のコーディネーター・管理者・組織管理者、"
        "窓口職員は自分を）",
        CaseAssignInputSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        referral = self._get(pk)
        serializer = CaseAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assignee = (
            get_user_model()
            .objects.filter(pk=serializer.validated_data["assignee"])
            .first()
        )
        if assignee is None:
            raise ValidationFailed(
                _("担当者は紹介先の組織の職員から選んでください。"), field="assignee"
            )
        referral = referral_assign(
            actor=self.actor, referral=referral, assignee=assignee
        )
        return self._answer(referral)
