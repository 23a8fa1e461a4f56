"""API of imports: upload (dry run), follow the report, commit, undo.

Thin adapters over crm/services/imports.py. Coordinators, managers and org
admins of the acting organisation use it (403 for other roles); an
organisation sees its own imports only (404 otherwise).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin
from crm.permissions import import_require_permitted
from crm.selectors.imports import imports_visible_to
from crm.serializers.imports import ImportInputSerializer, ImportSerializer
from crm.services.import_files import IMPORT_MAX_BYTES, file_size_check
from crm.services.imports import import_commit_request, import_undo, import_upload
from crm.views.common import ERROR_RESPONSES

FORBIDDEN = OpenApiResponse(
    description="not_permitted: 取込はコーディネーター・管理者・組織管理者のみ"
)


@extend_schema(tags=["imports"], parameters=[ORGANISATION_HEADER])
class ImportViewSet(ActorMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """相談記録の取込（Excel / CSV）: 確認（ドライラン）→ 取込 → 取消。"""

    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return imports_visible_to(self.actor).select_related(
            "organisation", "requested_by"
        )

    def get_object(self):
        import_require_permitted(self.actor)
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    @extend_schema(
        summary="ファイルを取り込む（まず確認だけ、201）",
        description=(
            "xlsx（値のみ。数式は計算結果、マクロは実行しない）または CSV"
            "（UTF-8・BOM 付き UTF-8・Shift_JIS を自動判別）。見出し（相談日、企業名、"
            "法人番号、都道府県、相談方法、相談分野、所要時間、相談内容、担当者 …）は"
            "自動で対応付け、mapping で指定した対応は組織ごとに記憶します。"
            "status: validating → ready（rows, valid_rows, errors, companies_matched, "
            "companies_new, duplicates）。この時点では何も登録しません。"
            f"上限 {IMPORT_MAX_BYTES // (1024 * 1024)} MB。"
        ),
        request={"multipart/form-data": ImportInputSerializer},
        responses={201: ImportSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def create(self, request, *args, **kwargs):
        import_require_permitted(self.actor)
        serializer = ImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        file_size_check(upload.size)
        imp = import_upload(
            actor=self.actor,
            file_name=upload.name,
            content=upload.read(),
            kind=data["kind"],
            mapping=data.get("mapping"),
        )
        imp.refresh_from_db()
        return Response(ImportSerializer(imp).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="取込の確認結果と進捗",
        responses={200: ImportSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="確認済みの行を登録する（非同期、202）",
        description=(
            "Celery のジョブが有効な行を企業等・案件・相談記録・フォローアップとして"
            "登録します（status: committing → committed、created に件数）。"
        ),
        request=None,
        responses={
            202: ImportSerializer,
            **ERROR_RESPONSES,
            403: FORBIDDEN,
            409: OpenApiResponse(description="import_not_ready: 確認済みでない"),
        },
    )
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        imp = import_commit_request(actor=self.actor, imp=self.get_object())
        return Response(ImportSerializer(imp).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="取込を取り消す",
        description=(
            "この取込で作成した記録をすべて削除し、件数と統計を取込前に戻します。"
            "作成した記録がその後変更されていれば 409 import_changed。"
        ),
        request=None,
        responses={
            200: ImportSerializer,
            **ERROR_RESPONSES,
            403: FORBIDDEN,
            409: OpenApiResponse(
                description="import_changed: 作成した記録が変更された / "
                "import_not_committed: 取込済みでない"
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        imp = import_undo(actor=self.actor, imp=self.get_object())
        return Response(ImportSerializer(imp).data)
