"""API of the accounts an organisation runs itself: `members/` (API.md "Accounts").

An org admin lists the memberships of the organisation they act for,
invites a member (an e-mail with a set-password link), changes a role,
(de)activates and unlocks; everybody else gets 403 `org_admin_only`. The
writes are support_network/services/accounts.py.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from support_network.choices import Role
from support_network.models import Membership
from support_network.people import full_name
from support_network.selectors import members_of_organisation
from support_network.services.accounts import (
    member_invite,
    member_unlock,
    member_update,
    org_admin_require,
)


class MemberSerializer(serializers.ModelSerializer):
    """One membership of the organisation, with its account."""

    user = serializers.IntegerField(source="user_id", help_text=_("ユーザーID"))
    username = serializers.CharField(source="user.username", help_text=_("ログインID"))
    name = serializers.SerializerMethodField(help_text=_("氏名（姓 名）"))
    email = serializers.EmailField(source="user.email")
    last_login = serializers.DateTimeField(source="user.last_login", allow_null=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "username",
            "name",
            "email",
            "role",
            "is_active",
            "last_login",
        ]
        read_only_fields = fields

    def get_name(self, obj) -> str:
        return full_name(obj.user)


class MemberInviteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text=_("ログインID"))
    email = serializers.EmailField(help_text=_("招待メールの宛先"))
    name = serializers.CharField(
        max_length=301, help_text=_("氏名（姓 名、空白区切り）")
    )
    role = serializers.ChoiceField(choices=Role.choices)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)


ORG_ADMIN_ONLY = OpenApiResponse(description="org_admin_only: 組織管理者のみ")
NOT_FOUND = OpenApiResponse(description="見つからない（他の組織の所属）")


@extend_schema_view(
    list=extend_schema(
        summary="メンバーの一覧（組織管理者）",
        description=(
            "行動する組織の所属（無効にしたものを含む）。組織管理者以外は 403 "
            "org_admin_only。"
        ),
        responses={200: MemberSerializer(many=True), 403: ORG_ADMIN_ONLY},
    ),
    create=extend_schema(
        summary="メンバーを招待する",
        description=(
            "アカウントと所属を作り、パスワード設定用リンク（一度だけ・有効期限つき）"
            "を招待メールで送ります。ログインIDが使用済みなら 409 username_taken。"
        ),
        request=MemberInviteSerializer,
        responses={
            201: MemberSerializer,
            403: ORG_ADMIN_ONLY,
            409: OpenApiResponse(description="username_taken: ログインIDが使用済み"),
        },
    ),
    partial_update=extend_schema(
        summary="メンバーの役割・有効／無効を変える",
        description=(
            "無効にした所属は次のリクエストからその組織として操作できません"
            "（セッションも API トークンも）。組織管理者がいなくなる変更は 409 "
            "last_org_admin。"
        ),
        request=MemberUpdateSerializer,
        responses={
            200: MemberSerializer,
            403: ORG_ADMIN_ONLY,
            404: NOT_FOUND,
            409: OpenApiResponse(
                description="last_org_admin: 有効な組織管理者がいなくなる"
            ),
        },
    ),
    unlock=extend_schema(
        summary="メンバーのログインロックを解除する",
        request=None,
        responses={
            200: MemberSerializer,
            403: ORG_ADMIN_ONLY,
            404: NOT_FOUND,
        },
    ),
)
@extend_schema(tags=["members"], parameters=[ORGANISATION_HEADER])
class MemberViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """The acting organisation's memberships (org admins)."""

    # Only tells the schema generator the model: requests use get_queryset().
    queryset = Membership.objects.none()
    serializer_class = MemberSerializer
    pagination_class = keyset_pagination("id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        org_admin_require(self.actor)
        return members_of_organisation(self.actor.organisation_id)

    def _membership(self) -> Membership:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        org_admin_require(self.actor)
        serializer = MemberInviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_invite(actor=self.actor, **serializer.validated_data)
        return Response(
            MemberSerializer(membership).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        membership = self._membership()
        serializer = MemberUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = member_update(
            actor=self.actor, membership=membership, **serializer.validated_data
        )
        return Response(MemberSerializer(membership).data)

    @action(detail=True, methods=["post"])
    def unlock(self, request, *args, **kwargs):
        membership = self._membership()
        member_unlock(actor=self.actor, membership=membership)
        return Response(MemberSerializer(membership).data)
