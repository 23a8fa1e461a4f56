"""API of exports: request one (202), follow its progress, download its file.

Thin adapters over crm/exports/: `POST exports/` validates and
queues the build in Celery; `GET exports/{id}/` shows status and progress;
`GET exports/{id}/download/` streams the file to its requester or an org
admin of its organisation (404 for anyone else, 410 once expired).
"""

from __future__ import annotations

from urllib.parse import quote

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.exports.files import export_download
from crm.exports.requests import export_request
from crm.models import Export
from crm.selectors.exports import exports_requested_by, exports_visible_to
from crm.views.common import ERROR_RESPONSES
from support_network.calendar import fiscal_year_label

# --- serializers -------------------------------------------------------------------


class ExportInputSerializer(serializers.Serializer):
    """Body of POST exports/."""

    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    fiscal_year = serializers.IntegerField(help_text="年度（4月始まりの西暦年）")
    format = serializers.ChoiceField(choices=Export.Format.choices)
    encoding = serializers.ChoiceField(
        choices=Export.Encoding.choices,
        required=False,
        help_text="CSV の文字コード（既定 utf-8-sig）。xlsx では無視されます。",
    )
    group_by = serializers.JSONField(
        required=False,
        help_text=(
            "consultation_statistics の集計軸（カンマ区切りまたは配列、"
            "既定 prefecture,topic）"
        ),
    )
    params = serializers.JSONField(
        required=False,
        help_text=(
            "consultation_statistics の条件: group_by, filters, measures, scope "
            "（statistics/consultations/ と同じ）"
        ),
    )


class ExportSerializer(serializers.ModelSerializer):
    """An export as its requester sees it."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    fiscal_year_label = serializers.SerializerMethodField()
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    is_expired = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField(
        help_text="完成して有効期限内のとき、ファイルの URL"
    )

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "kind_label",
            "fiscal_year",
            "fiscal_year_label",
            "format",
            "encoding",
            "params",
            "organisation",
            "status",
            "status_label",
            "progress",
            "row_count",
            "replaced_char_count",
            "file_size",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "is_expired",
            "error",
        ]
        read_only_fields = fields

    def get_fiscal_year_label(self, obj: Export) -> str:
        return fiscal_year_label(obj.fiscal_year)

    def get_is_expired(self, obj: Export) -> bool:
        return obj.expires_at <= timezone.now()

    def get_download_url(self, obj: Export) -> str | None:
        if obj.status != Export.Status.DONE or self.get_is_expired(obj):
            return None
        url = reverse("export-download", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


# --- views -------------------------------------------------------------------------


class AnyMediaRenderer(BaseRenderer):
    """Lets a download be asked for with any Accept header; the view sends the file."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


def content_disposition(filename: str, ascii_filename: str) -> str:
    """Return an attachment header with an ASCII name and the RFC 5987 UTF-8 one."""
    return (
        f'attachment; filename="{ascii_filename}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


KIND_RULES = (
    "consultations（相談記録）・referrals（紹介）・enrolments（支援事業の参加）は"
    "行単位のデータで、依頼者が閲覧できる行だけを出力します（専門家は依頼できません）。"
    "consultation_statistics（相談統計）は統計を閲覧できる人だけが依頼できます。"
)


@extend_schema_view(
    list=extend_schema(
        summary="自分のエクスポートの一覧（新しい順）",
        description="行動中の組織で自分が依頼したエクスポート。",
    ),
    retrieve=extend_schema(
        summary="エクスポートの状態と進捗",
        description=(
            "status: pending（待機中）→ running（作成中、progress 0–100）→ "
            "done（download_url あり）| failed（error に理由）。"
            "依頼者と、その組織の組織管理者だけが閲覧できます（他は 404）。"
        ),
        responses={200: ExportSerializer, **ERROR_RESPONSES},
    ),
)
@extend_schema(tags=["exports"], parameters=[ORGANISATION_HEADER])
class ExportViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Exports (xlsx/CSV) built in the background; files kept 7 days."""

    serializer_class = ExportSerializer
    pagination_class = keyset_pagination("-created_at", "-id")

    def get_queryset(self):
        if self.action == "list":
            return exports_requested_by(self.actor).select_related("organisation")
        return exports_visible_to(self.actor)

    @extend_schema(
        summary="エクスポートを依頼する（非同期、202）",
        description=(
            "xlsx（日本語の見出し、見出し行の固定、フィルター）または CSV"
            "（既定は BOM 付き UTF-8、encoding=cp932 で Shift_JIS。cp932 にない文字は"
            "〓 に置き換えて replaced_char_count に数えます）。"
            "= + - @ タブ 改行(CR) で始まる文字列のセルは先頭に ' を付けて無害化します。"
            + KIND_RULES
            + "ファイルは7日後に削除されます。"
        ),
        request=ExportInputSerializer,
        responses={
            202: ExportSerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="この種類のエクスポートを依頼できない"),
            409: OpenApiResponse(
                description="too_many_exports: 作成中のエクスポートが多すぎる"
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = ExportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        params = data.get("params")
        if "group_by" in data:
            params = {**(params if isinstance(params, dict) else {})}
            params["group_by"] = data["group_by"]
        export = export_request(
            actor=self.actor,
            kind=data["kind"],
            fiscal_year=data["fiscal_year"],
            format=data["format"],
            encoding=data.get("encoding"),
            params=params,
        )
        body = ExportSerializer(export, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="エクスポートのファイルをダウンロードする",
        description=(
            "依頼者とその組織の組織管理者だけ（他は 404）。ダウンロードは監査ログに"
            "記録されます。有効期限（7日）を過ぎると 410、削除後は 404。"
        ),
        responses={
            # The file's own type (crm.exports.files.CONTENT_TYPES).
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="見つからない（閲覧できない）"),
            409: OpenApiResponse(description="export_not_ready: まだ完成していない"),
            410: OpenApiResponse(description="export_expired: 有効期限切れ"),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        renderer_classes=[JSONRenderer, AnyMediaRenderer],
        pagination_class=None,
    )
    def download(self, request, pk=None):
        export = get_object_or_404(self.get_queryset(), pk=pk)
        file = export_download(actor=self.actor, export=export)
        response = FileResponse(
            open(file.path, "rb"),  # noqa: SIM115 - FileResponse closes it
            content_type=file.content_type,
        )
        response["Content-Disposition"] = content_disposition(
            file.filename, file.ascii_filename
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors of the download are JSON whatever the Accept header asked for.
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), AnyMediaRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
