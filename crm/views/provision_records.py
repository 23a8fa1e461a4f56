"""API views of the APPI art. 29 provision records of referrals, as JSON or CSV."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.choices import ConsentMethod, ConsentScope
from crm.exports.writers import stream_csv
from crm.models import ProvisionRecord
from crm.serializers.provision_records import ProvisionRecordSerializer
from crm.services.audit import audit_record
from crm.services.referrals import PROVIDED_ITEM_LABELS
from crm.views.common import ERROR_RESPONSES
from support_network.choices import Role
from support_network.errors import PermissionDenied


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
            str(PROVIDED_ITEM_LABELS.get(i, i)) for i in record.items_shared
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
        audit_record(
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
