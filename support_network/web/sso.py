"""Web pages of single sign-on: 「所属組織のアカウントでログイン」, the callback, logout, tokens.

- `POST /sso/start/` (`organisation` picked, or `email`): the authorization
  request of that organisation's IdP (support_network/oidc.py). The answer
  is a short page that moves on to the IdP (meta refresh and a link): the
  site's CSP allows forms to post to itself only (`form-action 'self'`),
  and browsers apply that to a redirect that follows a form, too.
  `GET /sso/start/?organisation=<code>` (a portal link) redirects at once.
- `GET /sso/callback/`: the redirect URI every IdP is given. The `state`
  is taken out of the session (a replayed callback finds none), the code is
  exchanged and the ID token verified, then support_network/services/sso.py
  applies the claims. A second factor asserted by the IdP (amr / acr)
  satisfies the MFA rule; otherwise a user with TOTP gives the code
  (/login/otp/), and a user who must have one enrols as after a password.
- `POST /logout/`: ends the local session and, when the IdP offers it,
  continues to its end-session endpoint (RP-initiated logout).
- `/account/api-token/`: an API token from the web session (SSO users have
  no password to send to `auth/token/`).

Every refusal is a Japanese page (403, or 400 for an unknown organisation)
and an audit event with its reason; nothing is created.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from support_network import mfa
from support_network.models import IdentityProvider
from support_network.oidc import BACKEND_PATH, SsoBackend, SsoRequestView
from support_network.services import sso
from support_network.tokens import token_create
from support_network.web.mfa import PENDING_KEY, _safe_next

SESSION_KEY = "sso"


def _refused(
    request, exc: sso.SsoRefused, provider: IdentityProvider | None, data=None
):
    sso.sso_refusal_record(
        provider=provider,
        reason=exc.code,
        data={"detail": exc.detail, **(data or {}), **exc.extra},
    )
    status = 400 if exc.code == sso.UNKNOWN_ORGANISATION else 403
    return render(
        request, "registration/sso_refused.html", {"message": exc.detail}, status=status
    )


@require_http_methods(["GET", "POST"])
def sso_start(request):
    """Send the browser to the IdP of the organisation picked (or of the e-mail's domain).

    POST is the login page's form (answered with a page that moves on, see
    above); GET `?organisation=<code>` is a link an agency may put in its
    portal (e.g. an Entra ID "My Apps" tile) and redirects at once.
    """
    data = request.POST if request.method == "POST" else request.GET
    code = data.get("organisation", "")
    email = data.get("email", "")
    try:
        provider = sso.provider_for_login(organisation_code=code, email=email)
        response = SsoRequestView().redirect_for(request, provider)
    except sso.SsoRefused as exc:
        domain = email.rsplit("@", 1)[-1][:100] if "@" in email else ""
        return _refused(
            request, exc, None, {"organisation": code[:60], "domain": domain}
        )
    request.session["oidc_login_next"] = _safe_next(request, data.get("next"))
    if request.method == "GET":
        return response
    return render(
        request,
        "registration/sso_redirect.html",
        {"url": response.url, "provider": provider},
    )


@require_http_methods(["GET"])
def sso_callback(request):
    """The IdP's answer: verify, apply the claims, log in (or refuse)."""
    state = request.GET.get("state") or ""
    states = request.session.get("oidc_states") or {}
    entry = states.pop(state, None) if state else None
    if entry is not None:
        request.session["oidc_states"] = states
        request.session.save()  # used up before anything else: no replay
    provider = None
    if entry is not None:
        provider = sso.enabled_providers().filter(pk=entry.get("provider")).first()
    try:
        if entry is None or provider is None:
            raise sso.SsoRefused(
                _(
                    "このログインの要求は見つからないか、すでに使われています"
                    "（state が一致しません）。もう一度ログインしてください。"
                ),
                code=sso.BAD_STATE,
            )
        if request.GET.get("error"):
            raise sso.SsoRefused(
                _(
                    "所属組織の認証サーバーでログインが完了しませんでした。もう一度お試しください。"
                ),
                code=sso.IDP_ERROR,
                why=request.GET.get("error", "")[:100],
            )
        issuer = request.GET.get("iss")
        if issuer and issuer != provider.issuer:  # RFC 9207: mix-up defence
            raise sso.SsoRefused(
                _("別の認証サーバーからの応答です。ログインできません。"),
                code=sso.BAD_TOKEN,
                why="iss_parameter",
            )
        backend = SsoBackend(provider)
        user = backend.authenticate(
            request,
            sso_provider=provider,
            nonce=entry.get("nonce"),
            code_verifier=entry.get("code_verifier"),
        )
        if user is None:
            raise sso.SsoRefused(
                _("ログインに必要な情報がありません。もう一度ログインしてください。"),
                code=sso.BAD_TOKEN,
            )
    except sso.SsoRefused as exc:
        return _refused(request, exc, provider)
    return _log_in(request, user, provider, backend)


def _log_in(request, user, provider, backend):
    asserted = sso.mfa_asserted(provider, backend.claims)
    next_url = request.session.pop("oidc_login_next", None) or reverse("home")
    info = {"provider": provider.pk, "mfa": asserted, "id_token": backend.id_token}
    if not asserted and mfa.user_has_second_factor(user):
        # The IdP did not assert a second factor: the product's TOTP applies.
        request.session.cycle_key()
        request.session[SESSION_KEY] = info
        request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": BACKEND_PATH,
            "at": timezone.now().timestamp(),
            "next": next_url,
        }
        return redirect("login-otp")
    auth_login(request, user, backend=BACKEND_PATH)
    request.session[SESSION_KEY] = info
    return redirect(_safe_next(request, next_url))


def session_mfa_asserted(request) -> bool:
    """Return whether this session's SSO login carried the IdP's second factor."""
    session = getattr(request, "session", None)
    info = session.get(SESSION_KEY) if session is not None else None
    return bool(info and info.get("mfa"))


class LogoutView(auth_views.LogoutView):
    """Django's logout; after an SSO login it continues to the IdP's end-session endpoint."""

    def post(self, request, *args, **kwargs):
        info = request.session.get(SESSION_KEY) or {}
        target = _end_session_url(request, info)
        response = super().post(request, *args, **kwargs)
        if target is None:
            return response
        return render(request, "registration/sso_logout.html", {"url": target})


def _end_session_url(request, info: dict) -> str | None:
    provider = IdentityProvider.objects.filter(pk=info.get("provider")).first()
    if provider is None:
        return None
    try:
        endpoint = sso.provider_metadata(provider).get("end_session_endpoint")
    except sso.SsoRefused:
        return None
    if not endpoint:
        return None
    params = {
        "client_id": provider.client_id,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    if info.get("id_token"):
        params["id_token_hint"] = info["id_token"]
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)


@login_required
@require_http_methods(["GET", "POST"])
def api_token_page(request):
    """Hand out an API token for the web session's user (shown once)."""
    clear = None
    token = None
    if request.method == "POST":
        token, clear = token_create(user=request.user)
    return render(
        request,
        "accounts/api_token.html",
        {"token": clear, "expires_at": token.expiry if token else None},
    )
