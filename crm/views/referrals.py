"""API views of referrals, their APPI provision records, and notifications."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Case as CaseWhen
from django.db.models import CharField, OuterRef, Subquery, Value, When
from django.db.models.functions import Cast
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm import services
from crm.choices import ConsentMethod, ConsentScope
from crm.export_writers import stream_csv
from crm.filters.referrals import ReferralFilter
from crm.models import AuditEvent, Notification, ProvisionRecord
from crm.selectors.visibility import (
    cases_visible_to,
    contacts_visible_to,
    referral_records_visible_to,
)
from crm.serializers.cases import CaseAssignInputSerializer
from crm.serializers.referrals import (
    NotificationSerializer,
    ProvisionRecordSerializer,
    ReferralCompleteSerializer,
    ReferralInputSerializer,
    ReferralNoteSerializer,
    ReferralSerializer,
)
from crm.views.common import ERROR_RESPONSES, visible_or_400
from support_network.actors import Actor
from support_network.choices import Role
from support_network.errors import PermissionDenied, ValidationFailed
from support_network.models import Organisation

CONFLICT_TRANSITION = OpenApiResponse(
    description='invalid_transition: 現在の状態ではできない操作（"status" に現在の状態）'
)
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
        referral = services.referral_send(
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
        return self._transition(pk, ReferralNoteSerializer, services.referral_accept)

    @_transition_schema("紹介を辞退する（紹介先）", ReferralNoteSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._transition(pk, ReferralNoteSerializer, services.referral_decline)

    @_transition_schema("紹介を完了にする（紹介先、結果報告を紹介元へ返す）", ReferralCompleteSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(pk, ReferralCompleteSerializer, services.referral_complete)

    @_transition_schema("紹介を取り消す（紹介元）", ReferralNoteSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(pk, ReferralNoteSerializer, services.referral_cancel)

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
        referral = services.referral_assign(
            actor=self.actor, referral=referral, assignee=assignee
        )
        return self._answer(referral)


# --- Provision records (APPI art. 29) -----------------------------------------


class CSVRenderer(BaseRenderer):
    """Lets `?format=csv` select the CSV export; the view writes the body."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


CSV_HEADER = [
    "提供日",
    "提供元",
    "提供先コード",
    "提供先",
    "企業等ID",
    "本人（企業等）",
    "法人番号",
    "提供した担当者",
    "提供した項目",
    "同意ID",
    "同意の範囲",
    "同意取得日",
    "同意取得方法",
    "同意撤回日時",
    "紹介ID",
]


def _csv_rows(records):
    """Yield the provision records as CSV through the exports' neutralising writer.

    Company, contact and organisation names are typed by users: a name such
    as "=HYPERLINK(…)" must reach the spreadsheet as text, not a formula.
    """
    return stream_csv(CSV_HEADER, (_csv_row(record) for record in records))


def _csv_row(record) -> list:
    consent = record.consent
    withdrawn = (
        timezone.localtime(consent.withdrawn_at).isoformat()
        if consent.withdrawn_at
        else ""
    )
    return [
        record.provided_on.isoformat(),
        record.provider.code,
        record.recipient.code,
        record.recipient.name,
        record.company_id,
        record.company.name,
        record.company.corporate_number or "",
        "、".join(c.name for c in record.contacts.all()),
        "、".join(
            str(services.PROVIDED_ITEM_LABELS.get(i, i)) for i in record.items_shared
        ),
        consent.pk,
        ConsentScope(consent.scope).label,
        consent.obtained_on.isoformat(),
        ConsentMethod(consent.method).label,
        withdrawn,
        record.referral_id,
    ]


@extend_schema_view(
    list=extend_schema(
        summary="第三者提供記録の一覧（組織管理者）",
        description=(
            "自組織が行った第三者提供の記録（個人情報保護法29条）。"
            "?format=csv で CSV（UTF-8 BOM 付き）を出力します。"
        ),
        responses={
            200: ProvisionRecordSerializer(many=True),
            403: OpenApiResponse(description="組織管理者のみ"),
        },
    ),
    retrieve=extend_schema(
        summary="第三者提供記録の詳細",
        responses={200: ProvisionRecordSerializer, **ERROR_RESPONSES},
    ),
)
@extend_schema(tags=["provision-records"], parameters=[ORGANISATION_HEADER])
class ProvisionRecordViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """APPI art. 29 records of the acting organisation's provisions (org admins)."""

    # Only tells the schema generator the model: requests use get_queryset().
    queryset = ProvisionRecord.objects.none()
    serializer_class = ProvisionRecordSerializer
    pagination_class = keyset_pagination("-provided_on", "-id")
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

    def get_queryset(self):
        actor = self.actor
        qs = ProvisionRecord.objects.select_related(
            "provider", "recipient", "company", "consent"
        ).prefetch_related("contacts")
        if actor.is_superuser and actor.membership is None:
            return qs
        if actor.role != Role.ORG_ADMIN:
            raise PermissionDenied(
                _("第三者提供記録を閲覧できるのは組織管理者だけです。"),
                code="org_admin_only",
            )
        return qs.filter(provider_id=actor.organisation_id)

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON even when the CSV was asked for.
        if (
            isinstance(response, Response)
            and response.status_code >= 400
            and isinstance(getattr(request, "accepted_renderer", None), CSVRenderer)
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        if request.accepted_renderer.format == "csv":
            return self._export()
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="第三者提供記録を CSV で出力する（UTF-8 BOM 付き）",
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            403: OpenApiResponse(description="組織管理者のみ"),
        },
    )
    @action(detail=False, methods=["get"], url_path="csv", pagination_class=None)
    def csv(self, request, *args, **kwargs):
        return self._export()

    def _export(self):
        records = self.get_queryset().order_by("-provided_on", "-id")
        services.audit_record(
            actor=self.actor,
            action="provision_record.export",
            data={"format": "csv"},
        )
        today = timezone.localdate().isoformat()
        code = self.actor.organisation.code if self.actor.organisation else "all"
        response = StreamingHttpResponse(
            _csv_rows(records.iterator(chunk_size=2000)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="provision-records-{code}-{today}.csv"'
        )
        return response


# --- Notifications ------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="自分宛ての通知の一覧（新しい順）"),
    retrieve=extend_schema(
        summary="通知の詳細", responses={200: NotificationSerializer, **ERROR_RESPONSES}
    ),
)
@extend_schema(tags=["notifications"])
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own in-app notifications, whatever organisation they act for."""

    serializer_class = NotificationSerializer
    pagination_class = keyset_pagination("-created_at", "-id")

    def get_queryset(self):
        return Notification.objects.filter(recipient_id=self.request.user.pk)

    @extend_schema(
        summary="通知を既読にする",
        request=None,
        responses={200: NotificationSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        notification = services.notification_read(
            actor=Actor(user=request.user), notification=notification
        )
        return Response(NotificationSerializer(notification).data)

