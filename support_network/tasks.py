"""Celery tasks of the network: the account e-mails (invitation, password reset).

Adapters only (STYLE.md §6): each loads its rows and calls one service of
support_network/services/accounts.py or services/password.py. The mails
leave from the worker, so a password reset answers as fast for a known
address as for an unknown one (no account enumeration by timing), and an
SMTP failure is retried with backoff instead of failing the request.
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

RETRY = {
    "autoretry_for": (SMTPException, ConnectionError),
    "retry_backoff": 30,
    "retry_backoff_max": 1800,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="support_network.member_invitation_mail", **RETRY)
def member_invitation_mail_task(membership_id: int, inviter_id: int | None) -> int:
    """Mail a member's invitation with a fresh set-password link."""
    from support_network.services.accounts import member_invitation_mail_send

    return member_invitation_mail_send(
        membership_id=membership_id, inviter_id=inviter_id
    )


@shared_task(name="support_network.password_reset_mail", **RETRY)
def password_reset_mail_task(user_id: int) -> int:
    """Mail an account a fresh set-password link."""
    from support_network.services.password import password_reset_mail_send

    return password_reset_mail_send(user_id=user_id)
