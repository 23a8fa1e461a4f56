"""API views of the network's reference data (public to every member)."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from config.api import (
    ORGANISATION_HEADER,
    ActorMixin,
    keyset_pagination,
    throttled_response,
)
from support_network.filters import OrganisationFilter
from support_network.models import Organisation, Prefecture
from support_network.serializers import OrganisationSerializer, PrefectureSerializer


@extend_schema(
    tags=["auth"],
    summary="API トークンを取得する",
    description=(
        "ユーザー名とパスワードで API トークンを返します。同じユーザー名・同じ接続元で"
        "ログインに続けて失敗すると、一定時間ロックされます（429 locked_out）。"
        "成功・失敗とも監査ログに記録します。"
    ),
    responses={
        200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
        400: OpenApiResponse(description="ユーザー名またはパスワードが違う"),
        429: OpenApiResponse(description="locked_out: ログイン失敗が続きロック中"),
    },
)
class TokenView(ObtainAuthToken):
    """POST {"username", "password"} → {"token"}.

    The serializer authenticates with the request, so django-axes counts
    the failures and refuses a locked-out username + address (429). A
    token handed out is a login: `user_logged_in` lets axes clear the
    failures and crm write the audit event, as the web login does.
    Requests are rate-limited per address like any anonymous API request
    (ObtainAuthToken itself turns throttling off).
    """

    throttle_classes = [AnonRateThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):
                cool_off = get_cool_off(request)
                response = throttled_response(
                    cool_off.total_seconds() if cool_off else None, code="locked_out"
                )
                response.data["detail"] = str(settings.AXES_COOLOFF_MESSAGE)
                return response
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        user_logged_in.send(sender=user.__class__, request=request, user=user)
        return Response({"token": token.key})


@extend_schema(tags=["network"], parameters=[ORGANISATION_HEADER])
class PrefectureViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The 47 prefectures with their bureau region and 弁理士会 地域会."""

    serializer_class = PrefectureSerializer
    queryset = Prefecture.objects.select_related("region", "jpaa_branch").order_by(
        "code"
    )
    pagination_class = keyset_pagination("code")
    lookup_field = "code"


@extend_schema(tags=["network"], parameters=[ORGANISATION_HEADER])
class OrganisationViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Organisations of the network."""

    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    lookup_field = "code"

    def get_queryset(self):
        return (
            Organisation.objects.filter(is_active=True)
            .select_related("prefecture", "region", "parent")
            .prefetch_related("expertise")
            .order_by("code")
        )

    pagination_class = keyset_pagination("code")
