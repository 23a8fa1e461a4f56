"""API of personal data over time (APPI): the retention policy.

`GET/PUT retention-policy/` (org admins; others 403 `org_admin_only`). The
per-record actions live with their resources: `cases/{id}/legal-hold/` in
crm/views/cases.py, `contacts/{id}/disclosure/` and `contacts/{id}/erase/`
in crm/views/companies.py.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ORGANISATION_HEADER, ActorMixin
from crm.permissions import retention_policy_require_manageable
from crm.serializers.personal_data import (
    RetentionPolicyInputSerializer,
    RetentionPolicySerializer,
)
from crm.services.retention import retention_policy_get, retention_policy_update
from crm.views.common import ERROR_RESPONSES

ORG_ADMIN_ONLY = OpenApiResponse(description="org_admin_only: 組織管理者のみ")


class RetentionPolicyView(ActorMixin, APIView):
    """The acting organisation's retention policy (保存期間)."""

    def _require(self):
        actor = self.actor
        actor.require_membership()
        retention_policy_require_manageable(actor)
        return actor

    @extend_schema(
        tags=["personal-data"],
        parameters=[ORGANISATION_HEADER],
        operation_id="retention_policy_retrieve",
        summary="保存期間の設定を見る",
        responses={200: RetentionPolicySerializer, 403: ORG_ADMIN_ONLY},
    )
    def get(self, request):
        actor = self._require()
        return Response(
            RetentionPolicySerializer(retention_policy_get(actor.organisation)).data
        )

    @extend_schema(
        tags=["personal-data"],
        parameters=[ORGANISATION_HEADER],
        operation_id="retention_policy_update",
        summary="保存期間を設定する",
        description=(
            "案件が終了した年度の翌年度から years_after_close 年度を過ぎた個人データは、"
            "保存期間の処理（apply_retention）で匿名化されます。"
        ),
        request=RetentionPolicyInputSerializer,
        responses={
            200: RetentionPolicySerializer,
            **ERROR_RESPONSES,
            403: ORG_ADMIN_ONLY,
        },
    )
    def put(self, request):
        actor = self._require()
        serializer = RetentionPolicyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        policy = retention_policy_update(actor=actor, **serializer.validated_data)
        return Response(RetentionPolicySerializer(policy).data)
