"""API of one's own login: tokens, password change, the second factor (TOTP).

API.md "Second round → Accounts": `auth/token/`, `auth/token/revoke/`,
`auth/password/change/`, `auth/mfa/totp/`, `auth/mfa/totp/confirm/`.
"""

from __future__ import annotations

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import throttled_response
from config.throttling import LoginRateThrottle
from support_network import mfa
from support_network.services import sso
from support_network.services.auth import user_password_change
from support_network.tokens import token_create, token_revoke


class TokenRequestSerializer(serializers.Serializer):
    """username + password (authenticated with the request, so axes counts failures)."""

    username = serializers.CharField(label=gettext_lazy("ユーザー名"), write_only=True)
    password = serializers.CharField(
        label=gettext_lazy("パスワード"),
        style={"input_type": "password"},
        trim_whitespace=False,
        write_only=True,
    )
    otp = serializers.CharField(
        label=gettext_lazy("確認コード"),
        required=False,
        allow_blank=True,
        max_length=32,
        write_only=True,
        help_text=gettext_lazy(
            "二要素認証を設定したユーザー: 認証アプリの6桁のコード、または回復コード"
        ),
    )

    def validate(self, attrs):
        user_model = get_user_model()
        named = user_model._default_manager.filter(
            **{user_model.USERNAME_FIELD: attrs.get("username")}
        ).first()
        if sso.password_login_refused(named):
            raise serializers.ValidationError(
                sso.password_refused_message(api=True), code="password_login_disabled"
            )
        user = authenticate(
            request=self.context.get("request"),
            username=attrs.get("username"),
            password=attrs.get("password"),
        )
        if not user:
            raise serializers.ValidationError(
                _("ユーザー名またはパスワードが正しくありません。"),
                code="authorization",
            )
        attrs["user"] = user
        return attrs


def _otp_refused(message: str, code: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message, code=code)


@extend_schema(
    tags=["auth"],
    summary="API トークンを取得する",
    description=(
        "ユーザー名とパスワードで API トークンを返します（有効期限 `expires_at` 付き）。"
        "二要素認証を設定したユーザーは `otp`（認証アプリの6桁のコード、または回復コード）も"
        "必要です（ないか違うと 401 otp_required）。二要素認証が必須の役割で未設定のユーザーは"
        "401 mfa_enrolment_required（Web の /account/mfa/ で設定してください）。"
        "同じユーザー名・同じ接続元でログインに続けて失敗すると、一定時間ロックされます"
        "（429 locked_out）。成功・失敗とも監査ログに記録します。"
    ),
    request=TokenRequestSerializer,
    responses={
        200: inline_serializer(
            "TokenResponse",
            {
                "token": serializers.CharField(),
                "expires_at": serializers.DateTimeField(),
            },
        ),
        400: OpenApiResponse(description="ユーザー名またはパスワードが違う"),
        401: OpenApiResponse(description="otp_required / mfa_enrolment_required"),
        429: OpenApiResponse(description="locked_out: ログイン失敗が続きロック中"),
    },
)
class TokenView(APIView):
    """POST {"username", "password", "otp"?} → {"token", "expires_at"}.

    The serializer authenticates with the request, so django-axes counts
    the failures and refuses a locked-out username + address (429). A
    wrong `otp` is a failed login too (axes counts it, the audit records
    it); a missing one only says it is required. A token handed out is a
    login: `user_logged_in` lets axes clear the failures and crm write the
    audit event, as the web login does. Requests are rate-limited per
    address in the `login` scope (config/throttling.py).
    """

    # No authentication: a client whose old token expired still sends it.
    authentication_classes = ()
    permission_classes = ()
    # Its own scope (issue 26 item 9): other anonymous requests from an
    # address do not lock its staff out of logging in.
    throttle_classes = [LoginRateThrottle]
    serializer_class = TokenRequestSerializer

    def get_authenticate_header(self, request):
        return "Token"  # so that otp_required stays a 401

    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(
            data=request.data, context={"request": request, "view": self}
        )
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                response = throttled_response(
                    cool_off.total_seconds() if cool_off else None, code="locked_out"
                )
                response.data["detail"] = str(settings.AXES_COOLOFF_MESSAGE)
                return response
            raise exceptions.ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        otp = serializer.validated_data.get("otp") or ""
        if mfa.user_has_second_factor(user):
            if not otp.strip():
                raise _otp_refused(
                    _(
                        "二要素認証を設定しています。認証アプリの6桁のコード"
                        "（または回復コード）を otp に入れてください。"
                    ),
                    "otp_required",
                )
            if mfa.user_otp_verify(user=user, code=otp) is None:
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": user.get_username()},
                    request=request._request,
                )
                raise _otp_refused(
                    _("確認コードが正しくありません。もう一度入力してください。"),
                    "otp_required",
                )
        elif mfa.mfa_enrolment_required(user):
            raise _otp_refused(
                _(
                    "この役割では二要素認証が必須です。Web の「二要素認証」"
                    "（/account/mfa/）で認証アプリを設定してからトークンを取得してください。"
                ),
                "mfa_enrolment_required",
            )
        token, clear = token_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response(
            {
                "token": clear,
                "expires_at": serializers.DateTimeField().to_representation(
                    token.expiry
                ),
            }
        )


@extend_schema(
    tags=["auth"],
    summary="API トークンを失効させる",
    description="このリクエストのトークンを失効させます。以後そのトークンは使えません。",
    request=None,
    responses={204: None},
)
class TokenRevokeView(APIView):
    """POST (with the token) → 204; the token stops working."""

    permission_classes = [IsAuthenticated]

    def post(self, request, *args, **kwargs):
        if request.auth is None or not hasattr(request.auth, "digest"):
            raise exceptions.ValidationError(
                {"detail": _("トークンで認証したリクエストで呼び出してください。")}
            )
        token_revoke(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = serializers.CharField(
        label=gettext_lazy("現在のパスワード"), trim_whitespace=False, write_only=True
    )
    new_password = serializers.CharField(
        label=gettext_lazy("新しいパスワード"), trim_whitespace=False, write_only=True
    )


@extend_schema(
    tags=["auth"],
    summary="自分のパスワードを変更する",
    description=(
        "現在のパスワードと新しいパスワードを受け取り、パスワードを変更します。"
        "このリクエスト以外のセッションとトークンはすべて終了します。"
        "弱いパスワード・現在のパスワードの誤りは 400（項目ごとの日本語メッセージ）。"
    ),
    request=PasswordChangeSerializer,
    responses={
        200: inline_serializer("PasswordChanged", {"detail": serializers.CharField()})
    },
)
class PasswordChangeView(APIView):
    """POST {"old_password", "new_password"} → 200; other sessions and tokens end."""

    permission_classes = [IsAuthenticated]

    def post(self, request, *args, **kwargs):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        keep = request.auth if hasattr(request.auth, "digest") else None
        user_password_change(
            user=request.user,
            old_password=serializer.validated_data["old_password"],
            new_password=serializer.validated_data["new_password"],
            keep_token=keep,
            request=request._request,
        )
        return Response({"detail": _("パスワードを変更しました。")})


@extend_schema(
    tags=["auth"],
    summary="二要素認証（TOTP）の登録を始める",
    description=(
        "確認前の TOTP デバイス（RFC 6238、30秒、6桁、SHA-1）を作り、秘密鍵・otpauth URI・"
        "回復コード10個を返します（この時だけ表示）。auth/mfa/totp/confirm/ で確認すると有効になります。"
    ),
    request=None,
    responses={
        201: inline_serializer(
            "TotpEnrolment",
            {
                "secret": serializers.CharField(),
                "otpauth_uri": serializers.CharField(),
                "recovery_codes": serializers.ListField(child=serializers.CharField()),
            },
        )
    },
)
class TotpEnrolView(APIView):
    """POST → 201 {"secret", "otpauth_uri", "recovery_codes"}: a pending device."""

    permission_classes = [IsAuthenticated]

    def post(self, request, *args, **kwargs):
        device, codes = mfa.totp_device_start(user=request.user)
        return Response(
            {
                "secret": mfa.totp_secret(device),
                "otpauth_uri": device.config_url,
                "recovery_codes": codes,
            },
            status=status.HTTP_201_CREATED,
        )


class TotpConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(label=gettext_lazy("確認コード"), max_length=32)


@extend_schema(
    tags=["auth"],
    summary="二要素認証（TOTP）の登録を確認する",
    description="認証アプリの6桁のコードで登録中のデバイスを確認します。以後ログインにコードが必要です。",
    request=TotpConfirmSerializer,
    responses={
        200: inline_serializer("TotpConfirmed", {"detail": serializers.CharField()}),
        # The field is named `code`, as the error kind of API.md "Errors" is:
        # a wrong or missing code is {"code": ["<message>"]}, an unreadable
        # body {"detail": "…", "code": "parse_error"}.
        400: OpenApiResponse(
            response={
                "type": "object",
                "properties": {
                    "detail": {"type": "string"},
                    "code": {
                        "oneOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}},
                        ]
                    },
                },
                "additionalProperties": True,
            },
            description="確認コードが違う・ない（項目 code に日本語のメッセージ）",
        ),
    },
)
class TotpConfirmView(APIView):
    """POST {"code"} → 200; the device is active from now on (400 on a wrong code)."""

    permission_classes = [IsAuthenticated]

    def post(self, request, *args, **kwargs):
        serializer = TotpConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        device = mfa.totp_device_confirm(
            user=request.user, code=serializer.validated_data["code"]
        )
        if request.auth is None and hasattr(request._request, "session"):
            # A web session confirming through the API stays verified.
            otp_login(request._request, device)
        return Response({"detail": _("二要素認証を有効にしました。")})
