"""mozilla-django-oidc, set up per organisation (README "シングルサインオン").

mozilla-django-oidc reads its configuration through `get_settings`; here the
values come from the organisation's IdentityProvider row and its discovery
document instead of settings.py, so one deployment serves every
organisation's IdP. From the library we use, unchanged: the authorization
request with `state`, `nonce` and PKCE (S256) kept in the session
(`oidc_states`), the token request, the JWKS look-up of the signing key by
`kid` and `alg`, the signature check (pyjwt) and the nonce check.

What mozilla-django-oidc 5.0 leaves out, `SsoBackend._verify_jws` adds by
passing pyjwt the options it omits: the audience (our client id), the
issuer, the required claims (exp, iat, iss, aud, sub) and a bounded clock
skew (`CRM_SSO_CLOCK_SKEW_SECONDS`, 60 s). pyjwt does the checking; there
is no JWT code of our own.
"""

from __future__ import annotations

import jwt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView
from requests import RequestException

from support_network.models import IdentityProvider
from support_network.services import sso

BACKEND_PATH = "support_network.oidc.SsoBackend"
SIGN_ALGORITHM = "RS256"


def provider_settings(provider: IdentityProvider, *, with_secret: bool) -> dict:
    """Return mozilla-django-oidc's settings for one organisation's IdP."""
    metadata = sso.provider_metadata(provider)
    values = {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": metadata["authorization_endpoint"],
        "OIDC_OP_TOKEN_ENDPOINT": metadata["token_endpoint"],
        "OIDC_OP_USER_ENDPOINT": metadata.get("userinfo_endpoint"),
        "OIDC_OP_JWKS_ENDPOINT": metadata["jwks_uri"],
        "OIDC_RP_CLIENT_ID": provider.client_id,
        "OIDC_RP_CLIENT_SECRET": sso.provider_client_secret(provider)
        if with_secret
        else None,
        "OIDC_RP_SIGN_ALGO": getattr(
            settings, "CRM_SSO_SIGN_ALGORITHM", SIGN_ALGORITHM
        ),
        "OIDC_RP_SCOPES": provider.scopes or "openid",
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso-callback",
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_TIMEOUT": 10,
    }
    if "openid" not in values["OIDC_RP_SCOPES"].split():
        values["OIDC_RP_SCOPES"] = "openid " + values["OIDC_RP_SCOPES"]
    return values


class _PerProviderSettings:
    _sso_settings: dict | None = None

    def get_settings(self, attr, *args):  # instance method: per request
        if self._sso_settings is not None and attr in self._sso_settings:
            return self._sso_settings[attr]
        if args:
            return getattr(settings, attr, args[0])
        return getattr(settings, attr)


class SsoRequestView(_PerProviderSettings, OIDCAuthenticationRequestView):
    """The authorization request to one organisation's IdP (state, nonce, PKCE)."""

    def __init__(self, **kwargs):  # settings are read per request, not here
        self.OIDC_OP_AUTH_ENDPOINT = None
        self.OIDC_RP_CLIENT_ID = None

    def redirect_for(self, request, provider: IdentityProvider):
        """Return mozilla-django-oidc's redirect to the IdP; state records the provider."""
        self._sso_settings = provider_settings(provider, with_secret=False)
        self.OIDC_OP_AUTH_ENDPOINT = self._sso_settings[
            "OIDC_OP_AUTHORIZATION_ENDPOINT"
        ]
        self.OIDC_RP_CLIENT_ID = provider.client_id
        response = self.get(request)
        # The newest state is the one just issued; remember whose it is.
        states = request.session["oidc_states"]
        newest = max(states, key=lambda key: states[key]["added_on"])
        states[newest]["provider"] = provider.pk
        request.session.modified = True
        return response


class SsoBackend(_PerProviderSettings, OIDCAuthenticationBackend):
    """Logs in a user whose ID token one organisation's IdP signed.

    In AUTHENTICATION_BACKENDS so that sessions it opened load their user;
    `authenticate` acts only when called with `sso_provider` (never for a
    username and password).
    """

    def __init__(self, provider: IdentityProvider | None = None, **kwargs):
        from django.contrib.auth import get_user_model

        self.UserModel = get_user_model()
        self.provider = provider
        self.claims: dict = {}
        self.id_token = ""
        if provider is None:
            return
        self._sso_settings = provider_settings(provider, with_secret=True)
        for name in (
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
            "OIDC_RP_SIGN_ALGO",
        ):
            setattr(self, name, self._sso_settings[name])
        self.OIDC_RP_IDP_SIGN_KEY = None

    def authenticate(
        self, request, *, sso_provider=None, nonce=None, code_verifier=None
    ):
        if sso_provider is None or self.provider is None:
            return None
        try:
            return super().authenticate(
                request, nonce=nonce, code_verifier=code_verifier
            )
        except SuspiciousOperation as exc:  # nonce, kid/alg, no signature
            raise sso.SsoRefused(
                _bad_token_message(), code=sso.BAD_TOKEN, why=str(exc)
            ) from exc
        except RequestException as exc:  # the token endpoint refused the code
            raise sso.SsoRefused(
                _(
                    "所属組織の認証サーバーがログインを受け付けませんでした。もう一度ログインしてください。"
                ),
                code=sso.IDP_ERROR,
                why=str(exc)[:300],
            ) from exc

    def _verify_jws(self, payload, key):
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"unexpected alg {header.get('alg')!r}")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.provider.issuer,
                leeway=sso.clock_skew_seconds(),
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise sso.SsoRefused(
                _(
                    "所属組織のログインの有効期限が切れています（ID トークンの期限切れ）。もう一度ログインしてください。"
                ),
                code=sso.BAD_TOKEN,
                why="expired",
            ) from exc
        except jwt.InvalidAudienceError as exc:
            raise sso.SsoRefused(
                _bad_token_message(), code=sso.BAD_TOKEN, why="audience"
            ) from exc
        except jwt.InvalidSignatureError as exc:
            raise sso.SsoRefused(
                _bad_token_message(), code=sso.BAD_TOKEN, why="signature"
            ) from exc
        except jwt.PyJWTError as exc:
            raise sso.SsoRefused(
                _bad_token_message(), code=sso.BAD_TOKEN, why=type(exc).__name__
            ) from exc

    def store_tokens(self, access_token, id_token):
        self.id_token = id_token  # the view keeps it for the logout's id_token_hint

    def get_or_create_user(self, access_token, id_token, payload):
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            info = self.get_userinfo(access_token, id_token, payload)
            if str(info.get("sub")) != str(payload.get("sub")):
                raise sso.SsoRefused(
                    _bad_token_message(), code=sso.BAD_TOKEN, why="userinfo_sub"
                )
            for name, value in info.items():
                claims.setdefault(name, value)  # the signed ID token's values win
        self.claims = claims
        return sso.sso_login_apply(provider=self.provider, claims=claims)

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)  # inactive users stay out


def _bad_token_message() -> str:
    return _(
        "所属組織の認証サーバーから受け取った ID トークンを確認できませんでした"
        "（署名・宛先・有効期限のいずれかが不正です）。ログインできません。"
    )
