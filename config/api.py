"""API conventions shared by every resource (API.md "Conventions").

Keyset pagination, the acting organisation (X-Organisation), one exception
handler that renders DomainError and DRF errors in the documented shapes,
with Japanese messages (429 included), and the client address behind
proxies.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler

from support_network.actors import Actor
from support_network.errors import DomainError
from support_network.selectors import actor_for

ORGANISATION_HEADER = OpenApiParameter(
    name="X-Organisation",
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=_("所属が複数あるとき、行動する組織のコード"),
)


class KeysetPagination(CursorPagination):
    """Cursor (keyset) pagination: constant cost at any depth."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"

    def get_page_size(self, request):
        """Return page_size (capped at 200); 400 when it is no positive integer."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        value = values[-1].strip()
        if len(values) > 1 or not (value.isascii() and value.isdigit() and int(value)):
            raise exceptions.ValidationError(
                {
                    self.page_size_query_param: [
                        _("page_size は 1〜%(max)d の整数で指定してください。")
                        % {"max": self.max_page_size}
                    ]
                }
            )
        return min(int(value), self.max_page_size)


class ActorMixin:
    """Resolve the acting organisation once per request, as `self.actor`."""

    _actor: Actor | None = None

    @property
    def actor(self) -> Actor:
        if getattr(self, "swagger_fake_view", False):
            # drf-spectacular builds the schema without a user: an actor
            # with no membership, whom every selector gives nothing.
            return Actor(user=self.request.user)
        if self._actor is None:
            request = self.request
            code = request.headers.get("X-Organisation") or None
            self._actor = actor_for(request.user, code)
        return self._actor

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Fail early (400/403) when the acting organisation is ambiguous.
        self._actor = None
        _unused = self.actor


def exception_handler(exc, context):
    """Render errors as API.md says; never a 500 for bad input."""
    if isinstance(exc, DomainError):
        return Response(exc.as_payload(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            payload = {
                field: [str(m) for m in msgs]
                for field, msgs in exc.message_dict.items()
            }
        else:
            payload = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(payload, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return Response(
            {"detail": _("見つかりません。"), "code": "not_found"},
            status=status.HTTP_404_NOT_FOUND,
        )
    if isinstance(exc, exceptions.Throttled):
        return throttled_response(exc.wait)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        data = response.data
        if isinstance(data, dict) and set(data) == {"detail"}:
            data["code"] = getattr(exc.detail, "code", None) or exc.default_code
    return response


# An id in a URL: digits that fit PostgreSQL's bigint. Anything else is no
# resource (404 from the URL resolver), never a query that fails (500).
ID_PATTERN = "[0-9]{1,18}"
# A code in a URL (prefecture, organisation, program): no "/", ".", and no
# control characters (PostgreSQL text cannot hold NUL).
CODE_PATTERN = "[^/.\\x00-\\x1f]+"


class ApiRouter(DefaultRouter):
    """The API's router: `{pk}` of every viewset looked up by id matches ID_PATTERN."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_field", "pk") == "pk" and not hasattr(
            viewset, "lookup_value_regex"
        ):
            return self._base_pattern.format(
                lookup_prefix=lookup_prefix,
                lookup_url_kwarg=getattr(viewset, "lookup_url_kwarg", None) or "pk",
                lookup_value=ID_PATTERN,
            )
        if not hasattr(viewset, "lookup_value_regex"):
            return self._base_pattern.format(
                lookup_prefix=lookup_prefix,
                lookup_url_kwarg=getattr(viewset, "lookup_url_kwarg", None)
                or viewset.lookup_field,
                lookup_value=CODE_PATTERN,
            )
        return super().get_lookup_regex(viewset, lookup_prefix)


def not_found(request, exception=None):
    """handler404: the API's JSON 404 under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": _("見つかりません。"), "code": "not_found"}, status=404
        )
    return defaults.page_not_found(request, exception)


def server_error(request):
    """handler500: JSON under /api/, the Japanese page (templates/500.html) elsewhere.

    Rendered without the request's context, so nothing here can fail again
    on what broke the request (the database, a context processor).
    """
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "detail": _(
                    "サーバーでエラーが発生しました。しばらく待ってからもう一度お試しください。"
                ),
                "code": "server_error",
            },
            status=500,
        )
    return defaults.server_error(request)


def keyset_pagination(*ordering: str) -> type[KeysetPagination]:
    """Return a KeysetPagination ordered by `ordering` (last field unique)."""
    return type("KeysetPagination", (KeysetPagination,), {"ordering": ordering})


def throttled_response(wait: float | None, code: str = "throttled") -> Response:
    """Return the 429 answer, in Japanese, with Retry-After when known."""
    detail = _("リクエストが多すぎます。しばらく待ってからもう一度お試しください。")
    headers = {}
    if wait:
        seconds = max(1, math.ceil(wait))
        detail = _(
            "リクエストが多すぎます。%(seconds)d 秒後にもう一度お試しください。"
        ) % {"seconds": seconds}
        headers["Retry-After"] = str(seconds)
    return Response(
        {"detail": detail, "code": code},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers=headers,
    )


def client_ip(request) -> str:
    """Return the client's address (login lockout, audit trail).

    REMOTE_ADDR, unless DJANGO_PROXY_COUNT reverse proxies stand in front:
    then the address the outermost of them saw, read from X-Forwarded-For
    the way DRF's NUM_PROXIES reads it (a client can prepend anything to
    that header, but not past our own proxies).
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = getattr(settings, "PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not count or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    if not addresses:
        return remote
    return addresses[-min(count, len(addresses))]
