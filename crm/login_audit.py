"""Audit events for logins and failed logins (issue 8, DESIGN.md rule 7).

Receivers of Django's auth signals, so every way in is covered: the web
login form, the admin login and POST /api/v1/auth/token/ (whose view sends
`user_logged_in` when it hands out a token). Each event names the account
as its object and belongs to each organisation the account is a member of,
so that organisation's org admins find it in GET /api/v1/audit-events/.
A failed login for an unknown username belongs to no organisation
(superusers see it in the admin).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from config.api import client_ip
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.selectors import memberships_of

LOGIN = "auth.login"
LOGIN_FAILED = "auth.login_failed"


def _channel(request) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


def _request_data(request) -> dict:
    if request is None:
        return {"via": "other", "ip": ""}
    return {"via": _channel(request), "ip": client_ip(request)}


@receiver(user_logged_in, dispatch_uid="crm.audit_login")
def audit_login(sender, request, user, **kwargs):
    """Record a successful login, once per organisation of the account."""
    data = _request_data(request)
    memberships = list(memberships_of(user))
    if not memberships:
        audit_record(actor=Actor(user=user), action=LOGIN, obj=user, data=data)
    for membership in memberships:
        audit_record(
            actor=Actor(user=user, membership=membership),
            action=LOGIN,
            obj=user,
            data=data,
        )


@receiver(user_login_failed, dispatch_uid="crm.audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    """Record a failed (or locked-out) login attempt; the password is never kept."""
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or "")[:150]
    data = {
        **_request_data(request),
        "username": username,
        "locked_out": bool(getattr(request, "axes_locked_out", False)),
    }
    user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    organisations = (
        [m.organisation for m in memberships_of(user)] if user is not None else []
    )
    if not organisations:
        audit_record(actor=None, action=LOGIN_FAILED, obj=user, data=data)
    for organisation in organisations:
        audit_record(
            actor=None,
            action=LOGIN_FAILED,
            obj=user,
            data=data,
            organisation=organisation,
        )
