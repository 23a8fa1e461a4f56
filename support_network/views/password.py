"""API `POST auth/password/reset/` (API.md "Accounts"): a reset link by e-mail."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttling import AnonRateThrottle
from support_network.services.password import password_reset_request


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(help_text=_("アカウントのメールアドレス"))


@extend_schema(
    tags=["auth"],
    summary="パスワード再設定のリンクをメールで送る",
    description=(
        "登録されたメールアドレスなら、パスワード設定用の一度だけ使えるリンク"
        "（/password-reset/…、有効期限つき）を送ります。アカウントの有無を知られない"
        "よう、登録の有無にかかわらず 202 を返します。"
    ),
    request=PasswordResetRequestSerializer,
    responses={
        202: OpenApiResponse(
            response=inline_serializer(
                "PasswordResetAccepted", {"detail": serializers.CharField()}
            ),
            description="受け付けた（登録の有無は答えない）",
        ),
        400: OpenApiResponse(description="メールアドレスの形式が正しくない"),
    },
)
class PasswordResetRequestView(APIView):
    """POST {"email"} → 202, whatever the address."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    def post(self, request, *args, **kwargs):
        serializer = PasswordResetRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        return Response(
            {
                "detail": str(
                    _("登録されたアドレスであれば、再設定のリンクを送りました。")
                )
            },
            status=status.HTTP_202_ACCEPTED,
        )
