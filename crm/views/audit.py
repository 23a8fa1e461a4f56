"""API view of the audit trail: GET audit-events/ (API.md, DESIGN.md rule 7).

An org admin reads the trail of the organisation they act for: case views,
changes, exports, downloads, logins and failed logins of its accounts.
Anybody else gets 403 `org_admin_only` on the list, like the APPI provision
records (the endpoint is no secret; what it lists is), and 404 on an event
of another organisation (rule 5). Superusers acting without a membership
read every event.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.models import AuditEvent
from support_network.choices import Role
from support_network.errors import PermissionDenied, ValidationFailed

AUDIT_OBJECT = inline_serializer(
    "AuditEventObject",
    {
        "type": serializers.CharField(help_text=_("対象の種類（case, referral など）")),
        "id": serializers.CharField(help_text=_("対象ID")),
    },
    allow_null=True,
)


class AuditEventSerializer(serializers.ModelSerializer):
    """One audit event: who did what to which object, when."""

    actor = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text=_("実行したユーザー名（ログイン失敗・自動処理では null）"),
    )
    organisation = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    object = serializers.SerializerMethodField()
    data = serializers.JSONField(read_only=True)
    changes = serializers.SerializerMethodField(
        help_text=_("変更イベントの変更内容 {項目: [変更前, 変更後]}（変更以外は {}）")
    )

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "action",
            "actor",
            "organisation",
            "object",
            "data",
            "changes",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {"type": "object", "additionalProperties": {"type": "array", "items": {}}}
    )
    def get_changes(self, obj) -> dict:
        return (obj.data or {}).get("changes", {})

    @extend_schema_field(AUDIT_OBJECT)
    def get_object(self, obj):
        if not obj.object_type:
            return None
        return {"type": obj.object_type, "id": obj.object_id}


class AuditEventFilter(django_filters.FilterSet):
    """object=<type> or <type>:<id>, actor=<username>, action=<action> or <prefix>."""

    object = django_filters.CharFilter(
        method="filter_object",
        label="対象: 種類（case）または 種類:ID（case:12）",
    )
    actor = django_filters.CharFilter(
        field_name="actor__username", label="実行したユーザー名"
    )
    action = django_filters.CharFilter(
        method="filter_action",
        label="操作（case.view）。末尾が「.」なら前方一致（referral.）",
    )
    since = django_filters.IsoDateTimeFilter(
        field_name="at", lookup_expr="gte", label="この日時以降"
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="at", lookup_expr="lt", label="この日時より前"
    )

    class Meta:
        model = AuditEvent
        fields = ["object", "actor", "action", "since", "until"]

    def filter_object(self, queryset, name, value):
        kind, sep, pk = value.partition(":")
        kind, pk = kind.strip(), pk.strip()
        if not kind or (sep and not pk):
            raise ValidationFailed(
                _("対象は「種類」または「種類:ID」で指定してください（例: case:12）。"),
                field="object",
            )
        queryset = queryset.filter(object_type=kind)
        return queryset.filter(object_id=pk) if sep else queryset

    def filter_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)


ORG_ADMIN_ONLY = OpenApiResponse(description="org_admin_only: 組織管理者のみ")


@extend_schema_view(
    list=extend_schema(
        summary="監査ログの一覧（組織管理者、新しい順）",
        description=(
            "行動する組織の監査ログ: 案件の閲覧、変更、出力・ダウンロード、"
            "ログインとログイン失敗など。組織管理者以外は 403 org_admin_only。"
        ),
        responses={200: AuditEventSerializer(many=True), 403: ORG_ADMIN_ONLY},
    ),
    retrieve=extend_schema(
        summary="監査ログの詳細",
        responses={
            200: AuditEventSerializer,
            403: ORG_ADMIN_ONLY,
            404: OpenApiResponse(description="見つからない（他の組織の記録）"),
        },
    ),
)
@extend_schema(tags=["audit"], parameters=[ORGANISATION_HEADER])
class AuditEventViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The acting organisation's audit trail (org admins)."""

    # Only tells the schema generator the model: requests use get_queryset().
    queryset = AuditEvent.objects.none()
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = keyset_pagination("-at", "-id")

    def get_queryset(self):
        actor = self.actor
        qs = AuditEvent.objects.select_related("actor", "organisation")
        if getattr(self, "swagger_fake_view", False):
            return qs.none()
        if actor.is_superuser and actor.membership is None:
            return qs
        if actor.role != Role.ORG_ADMIN:
            raise PermissionDenied(
                _("監査ログを閲覧できるのは組織管理者だけです。"),
                code="org_admin_only",
            )
        return qs.filter(organisation_id=actor.organisation_id)
