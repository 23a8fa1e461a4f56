"""API tokens with a lifetime (django-rest-knox), and their end.

A token (`Authorization: Token <token>`) is stored hashed by knox and lives
REST_KNOX["TOKEN_TTL"] (CRM_API_TOKEN_TTL_HOURS, 10 hours by default). It
ends earlier when

- it is revoked (`POST auth/token/revoke/`),
- its user changes their password (`user_tokens_revoke`, every token but
  the one making the request),
- its user is deactivated (`is_active=False`: knox refuses it), or
- its user has no active membership left (the end of the membership(s) it
  acts through): `TokenAuthentication` below refuses it with 401;
  superusers, who may act without a membership, are excepted. A token of
  a user with several memberships acts only through the active ones
  (X-Organisation resolution reads `memberships_of`).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import get_token_model
from rest_framework import exceptions


def user_tokens_revoke(*, user, keep=None) -> int:
    """End every API token of user, except keep (a token instance); return how many.

    Called on a password change (API and web) and wherever a user's access
    must stop at once. keep is the token making the request, so that a
    password change through the API does not log its own caller out.
    """
    tokens = get_token_model().objects.filter(user=user)
    if keep is not None and getattr(keep, "pk", None) is not None:
        tokens = tokens.exclude(pk=keep.pk)
    deleted, _per_model = tokens.delete()
    return deleted


def token_revoke(*, token) -> None:
    """End one token (the request's `request.auth`)."""
    token.delete()


def token_create(*, user) -> tuple[object, str]:
    """Hand out a new API token for user; return (token row, token in clear).

    The clear token is shown once; knox stores only its hash. It expires
    after REST_KNOX["TOKEN_TTL"] (CRM_API_TOKEN_TTL_HOURS).
    """
    return get_token_model().objects.create(user=user)


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check in Japanese, plus: a user with no active membership is refused."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed as exc:
            if getattr(exc, "_crm", False):
                raise
            raise exceptions.AuthenticationFailed(
                _("トークンが無効か、有効期限が切れています。"), code="invalid_token"
            ) from exc

    def validate_user(self, auth_token):
        user = auth_token.user
        if not user.is_active:
            raise _failed(_("このユーザーは無効です。"), "user_inactive")
        if not user.is_superuser:
            from support_network.selectors import memberships_of

            if not memberships_of(user).exists():
                raise _failed(
                    _("所属が終了したため、このトークンは使えません。"),
                    "no_membership",
                )
        return user, auth_token


def _failed(message, code) -> exceptions.AuthenticationFailed:
    exc = exceptions.AuthenticationFailed(message, code=code)
    exc._crm = True
    return exc


class TokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of these tokens (as DRF's `tokenAuth` was)."""

    target_class = "support_network.tokens.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Token"
        )
