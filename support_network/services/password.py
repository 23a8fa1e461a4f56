"""One-time set-password links and the password reset of "forgot my password".

The invitation (support_network/services/accounts.py) and the reset send the
same kind of link; the web page and the API (`auth/password/reset/`) queue
the reset through `password_reset_request`, and the worker mails it.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from support_network.people import person_name


def password_link_path(user) -> str:
    """Return the one-time set-password path `/password-reset/<uidb64>/<token>/`.

    Django's default_token_generator: the link works once (it hashes the
    password, which setting one changes) and for PASSWORD_RESET_TIMEOUT.
    """
    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def password_link_expiry():
    """Return when a set-password link sent now stops working (local time)."""
    return timezone.localtime(
        timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    )


def account_mail_send(
    subject_template: str, body_template: str, context: dict, to: str
) -> None:
    """Render and send one account mail (invitation, password reset)."""
    subject = render_to_string(subject_template, context)
    body = render_to_string(body_template, context)
    send_mail(" ".join(subject.split()), body, None, [to])


def password_reset_users(email: str) -> list:
    """Return the active accounts with this e-mail address (case-insensitive).

    Unlike Django's PasswordResetForm, an invited member who has set no
    password yet is included: the link they get is the same one-time
    set-password link the invitation carried, sent to the same address.
    """
    email = (email or "").strip()
    if not email:
        return []
    user_model = get_user_model()
    return list(user_model._default_manager.filter(email__iexact=email, is_active=True))


def password_reset_request(*, email: str) -> int:
    """Queue a one-time set-password link to each account with this address.

    The caller answers the same whatever the address (no account
    enumeration), and the mail goes out from the worker, so the answer does
    not take longer for a known address either. Return how many mails were
    queued, for tests and logs only.
    """
    from support_network.tasks import password_reset_mail_task

    users = password_reset_users(email)
    for user in users:
        password_reset_mail_task.delay_on_commit(user.pk)
    return len(users)


def password_reset_mail_send(*, user_id: int) -> int:
    """Mail a fresh set-password link to an active account; return 1, or 0 if moot."""
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return 0
    context = {
        "name": person_name(user),
        "username": user.get_username(),
        "link": settings.CRM_SITE_URL.rstrip("/") + password_link_path(user),
        "expires_at": password_link_expiry(),
    }
    account_mail_send(
        "registration/password_reset_subject.txt",
        "registration/password_reset_email.txt",
        context,
        user.email,
    )
    return 1
