"""Web pages of the second factor: the login's code step and the enrolment page.

Login: after the password, a user with a confirmed TOTP device is not
logged in yet; the session remembers who passed the password step (for
PENDING_SECONDS) and `/login/otp/` asks for the 6-digit code or a recovery
code. Only then is the user logged in (`user_logged_in`: audit, axes), with
the device recorded in the session (django-otp: `user.is_verified()`).
A wrong code is a failed login (axes counts it, the audit records it).

Enrolment (`/account/mfa/`): start a pending device, scan the QR code
(SVG made here by segno, no external asset or script), or type the secret,
confirm with a code; the 10 recovery codes are shown while the device is
pending, and never again once it is confirmed.

`MfaMiddleware` keeps sessions honest: a session of a user with a second
factor that was not verified (e.g. through the admin's own login form)
ends; a user who must enrol (CRM_MFA_REQUIRED_ROLES) is sent to the
enrolment page before anything else.
"""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from support_network import mfa
from support_network.errors import DomainError
from support_network.services import sso

PENDING_KEY = "mfa_pending"
PENDING_SECONDS = 300
# Wrong codes on one pending login before the password must be typed again
# (where django-axes' lockout applies; each wrong code counts there too).
PENDING_MAX_FAILURES = 5


def _safe_next(request, target: str | None) -> str:
    target = target or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


class LoginForm(AuthenticationForm):
    """Django's login form; members of an organisation that turned passwords off are sent to SSO."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            user = get_user_model()._default_manager.filter(
                **{get_user_model().USERNAME_FIELD: username}
            ).first()
            if sso.password_login_refused(user):
                raise ValidationError(sso.password_refused_message(), code="sso_only")
        return super().clean()


class MfaLoginView(auth_views.LoginView):
    """Django's login; users with a second factor continue to /login/otp/."""

    form_class = LoginForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_providers"] = list(
            sso.enabled_providers().order_by("organisation__code")
        )
        return context

    def form_valid(self, form):
        user = form.get_user()
        if not mfa.user_has_second_factor(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": getattr(user, "backend", None),
            "at": timezone.now().timestamp(),
            "next": self.get_redirect_url() or "",
        }
        return HttpResponseRedirect(reverse("login-otp"))


def admin_login(request, extra_context=None):
    """The admin's login form is this site's login (with its code step)."""
    target = _safe_next(request, request.GET.get("next") or reverse("admin:index"))
    return redirect(reverse("login") + "?" + urlencode({"next": target}))


def _pending_user(request):
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return None, None
    if timezone.now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


@require_http_methods(["GET", "POST"])
def login_otp(request):
    """The login's second step: a code from the authenticator app or a recovery code."""
    user, pending = _pending_user(request)
    if user is None:
        messages.error(
            request, _("ログインの有効時間が過ぎました。もう一度ログインしてください。")
        )
        return redirect("login")
    error = None
    if request.method == "POST":
        device = mfa.user_otp_verify(user=user, code=request.POST.get("code", ""))
        if device is not None:
            request.session.pop(PENDING_KEY, None)
            user.otp_device = device  # django-otp records it in the session
            auth_login(
                request,
                user,
                backend=pending.get("backend")
                or "django.contrib.auth.backends.ModelBackend",
            )
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(
                    request,
                    _(
                        "回復コードでログインしました（残り %(n)d 個）。"
                        "認証アプリを失くした場合は二要素認証を設定し直してください。"
                    )
                    % {"n": left},
                )
            return redirect(_safe_next(request, pending.get("next")))
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=request,
        )
        pending["failures"] = pending.get("failures", 0) + 1
        if pending["failures"] >= PENDING_MAX_FAILURES:
            request.session.pop(PENDING_KEY, None)
            messages.error(
                request,
                _("確認コードの誤りが続きました。もう一度ログインしてください。"),
            )
            return redirect("login")
        request.session[PENDING_KEY] = pending
        error = _("確認コードが正しくありません。もう一度入力してください。")
    return render(
        request,
        "accounts/mfa_login.html",
        {"error": error},
        status=400 if error else 200,
    )


def qr_svg(uri: str) -> str:
    """Return the QR code of uri as inline SVG markup (no script, no external asset)."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, title=_("認証アプリ用 QR コード")
    )
    # segno's own markup of our own URI (the title is escaped by segno).
    return mark_safe(svg)


@login_required
@require_http_methods(["GET", "POST"])
def mfa_setup(request):
    """Enrol (or re-enrol) the authenticator app; shows the recovery codes."""
    user = request.user
    error = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "start":
            mfa.totp_device_start(user=user)
            return redirect(_setup_url(request))
        if action == "confirm":
            try:
                device = mfa.totp_device_confirm(
                    user=user, code=request.POST.get("code", "")
                )
            except DomainError as exc:
                error = exc.detail
                status = 400
            else:
                otp_login(request, device)
                messages.success(
                    request,
                    _(
                        "二要素認証を有効にしました。次回からログインに確認コードが必要です。"
                    ),
                )
                return redirect(_safe_next(request, request.GET.get("next")))
    pending = mfa.totp_device_pending(user)
    context = {
        "has_device": mfa.user_has_second_factor(user),
        "required": mfa.mfa_enrolment_required(user),
        "pending": pending,
        "error": error,
        "next": request.GET.get("next", ""),
    }
    if pending is not None:
        recovery = (
            StaticDevice.objects.filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        context.update(
            secret=mfa.totp_secret(pending),
            qr=qr_svg(pending.config_url),
            recovery_codes=list(
                recovery.token_set.order_by("pk").values_list("token", flat=True)
            )
            if recovery
            else [],
        )
    return render(request, "accounts/mfa_setup.html", context, status=status)


def _setup_url(request) -> str:
    url = reverse("mfa-setup")
    target = request.GET.get("next")
    if target:
        url += "?" + urlencode({"next": _safe_next(request, target)})
    return url


# Paths a user who must enrol may still reach (the rest redirect to the
# enrolment page; the API answers 403 mfa_enrolment_required).
_ENROL_EXEMPT = (
    "/account/mfa/",
    "/login/",
    "/logout/",
    "/static/",
    "/health/",
    "/api/v1/auth/",
    "/favicon",
)


class MfaMiddleware:
    """Sessions of second-factor users must be verified; required roles must enrol."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response = self._check(request, user)
            if response is not None:
                return response
        return self.get_response(request)

    def _check(self, request, user):
        is_verified = getattr(user, "is_verified", None)
        if is_verified is not None and is_verified():
            return None
        # A single sign-on whose IdP asserted a second factor (amr / acr)
        # satisfies the rule (support_network/services/sso.py mfa_asserted).
        info = request.session.get("sso") if hasattr(request, "session") else None
        if info and info.get("mfa"):
            return None
        path = request.path
        is_api = path.startswith("/api/")
        if mfa.user_has_second_factor(user):
            # Logged in without the code (the admin's login form, an old
            # session): the session ends, the login asks for the code.
            auth_logout(request)
            if is_api:
                return JsonResponse(
                    {
                        "detail": _(
                            "ログインし直してください（確認コードが必要です）。"
                        ),
                        "code": "otp_required",
                    },
                    status=401,
                )
            return redirect(
                reverse("login") + "?" + urlencode({"next": request.get_full_path()})
            )
        if path.startswith(_ENROL_EXEMPT) or not mfa.mfa_enrolment_required(
            user, has_device=False
        ):
            return None
        if is_api:
            return JsonResponse(
                {
                    "detail": _(
                        "この役割では二要素認証が必須です。/account/mfa/ で設定してください。"
                    ),
                    "code": "mfa_enrolment_required",
                },
                status=403,
            )
        return redirect(
            reverse("mfa-setup") + "?" + urlencode({"next": request.get_full_path()})
        )
