"""Which IdP a single sign-on goes to, and how the app reaches it (configuration reads).

The organisation's IdentityProvider row says where its IdP is; its
discovery document (cached per process) says where the endpoints and keys
are; the client secret comes from the environment, never the database.
support_network/services/sso.py holds what a login does with the claims.
"""

from __future__ import annotations

import threading
import time

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from config.env import env_secret
from support_network.errors import PermissionDenied
from support_network.models import IdentityProvider

DISCOVERY_CACHE_SECONDS = 300

# Refusal reasons (audit `reason`, and the code of SsoRefused).
UNKNOWN_ORGANISATION = "unknown_organisation"
BAD_TOKEN = "bad_token"
BAD_STATE = "bad_state"
NO_MAPPED_GROUP = "no_mapped_group"
FOREIGN_ORGANISATION = "foreign_organisation"
IDP_ERROR = "idp_error"
USER_INACTIVE = "user_inactive"


class SsoRefused(PermissionDenied):
    """A single sign-on refused; `code` is the reason, `detail` the Japanese message."""

    default_code = BAD_TOKEN


def clock_skew_seconds() -> int:
    """Return the leeway allowed on exp / iat / nbf (CRM_SSO_CLOCK_SKEW_SECONDS, 60)."""
    return int(getattr(settings, "CRM_SSO_CLOCK_SKEW_SECONDS", 60))


def enabled_providers():
    """Return the IdPs a login may go to (enabled, organisation active)."""
    return IdentityProvider.objects.filter(
        is_enabled=True, organisation__is_active=True
    ).select_related("organisation")


def provider_for_login(
    *, organisation_code: str = "", email: str = ""
) -> IdentityProvider:
    """Return the IdP of the organisation picked, or of the e-mail's domain.

    Refused (`unknown_organisation`) when no enabled IdP matches.
    """
    providers = enabled_providers()
    provider = None
    code = (organisation_code or "").strip()
    if code:
        provider = providers.filter(organisation__code=code).first()
    elif "@" in (email or ""):
        domain = email.rsplit("@", 1)[1].strip().lower()
        for candidate in providers:
            if domain and domain in provider_email_domains(candidate):
                provider = candidate
                break
    if provider is None:
        raise SsoRefused(
            _(
                "その組織（またはメールアドレスのドメイン）のシングルサインオンは"
                "設定されていません。組織を選び直すか、パスワードでログインしてください。"
            ),
            code=UNKNOWN_ORGANISATION,
        )
    return provider


def provider_email_domains(provider: IdentityProvider) -> set[str]:
    return {
        d.strip().lower().lstrip("@")
        for d in provider.email_domains.replace(" ", ",").split(",")
        if d.strip()
    }


def provider_client_secret(provider: IdentityProvider) -> str:
    """Return the client secret from the environment (NAME, or the file NAME_FILE)."""
    secret = (
        env_secret(provider.client_secret_env, "") if provider.client_secret_env else ""
    )
    if not secret:
        raise SsoRefused(
            _(
                "シングルサインオンの設定が不完全です（クライアントシークレットがありません）。"
                "システム管理者に連絡してください。"
            ),
            code=IDP_ERROR,
        )
    return secret


_discovery_cache: dict[str, tuple[float, dict]] = {}
_discovery_lock = threading.Lock()


def provider_metadata(provider: IdentityProvider) -> dict:
    """Return the IdP's discovery document (cached DISCOVERY_CACHE_SECONDS per process).

    Its `issuer` must be exactly the configured issuer (OpenID Connect
    Discovery 1.0 §4.3), or nothing from it is trusted.
    """
    issuer = provider.issuer
    with _discovery_lock:
        cached = _discovery_cache.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_CACHE_SECONDS:
            return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        metadata = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoRefused(
            _(
                "所属組織の認証サーバーに接続できません。しばらくしてからお試しください。"
            ),
            code=IDP_ERROR,
        ) from exc
    if metadata.get("issuer") != issuer:
        raise SsoRefused(
            _(
                "所属組織の認証サーバーの設定が一致しません（issuer）。システム管理者に連絡してください。"
            ),
            code=IDP_ERROR,
        )
    with _discovery_lock:
        _discovery_cache[issuer] = (time.monotonic(), metadata)
    return metadata


def provider_metadata_forget(provider: IdentityProvider | None = None) -> None:
    """Drop the cached discovery document(s) (a changed configuration, tests)."""
    with _discovery_lock:
        if provider is None:
            _discovery_cache.clear()
        else:
            _discovery_cache.pop(provider.issuer, None)
