"""The e-mail copy of a notification: its subject, its link, and the leased send.

A notification row is the record; the e-mail is a copy of it, sent by the
retrying task `crm.notification_email` (crm/tasks.py), queued after commit
by `crm.services.notifications.enqueue_emails`. Each kind has a subject
(`notification_subject_register`) and each object type a page to link to
(`notification_link_register`; the web list of notifications links through
the same `notification_path`). `notification_email_send` takes each row on
a lease (`email_claimed_at`) before sending and marks it sent (`emailed_at`)
only after the mail server accepted it: mailed once, never lost.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import FollowUp, Notification, Referral

# The logger keeps the name it had before notifications were split into
# modules: operators filter on it (docs/operations.md "Logs").
logger = logging.getLogger("crm.services.notifications")


# Subjects of the e-mail copy, by notification kind (Japanese UI strings).
# A kind without an entry gets the generic subject; other apps add theirs
# with `notification_subject_register`.
SUBJECTS: dict[str, Any] = {
    "referral.sent": gettext_lazy("紹介が届きました"),
    "referral.accepted": gettext_lazy("紹介が受け入れられました"),
    "referral.declined": gettext_lazy("紹介が辞退されました"),
    "referral.completed": gettext_lazy("紹介の結果報告が届きました"),
    "referral.cancelled": gettext_lazy("紹介が取り消されました"),
    "referral.expired": gettext_lazy("紹介が回答期限切れになりました"),
    "referral.reminder": gettext_lazy("紹介への回答をお願いします"),
    "referral.escalation": gettext_lazy("回答されていない紹介があります"),
    "referral.assigned": gettext_lazy("紹介の担当者になりました"),
    "follow_up.reminder": gettext_lazy("フォローアップの期日です"),
    "follow_up.escalation": gettext_lazy("期日を過ぎたフォローアップがあります"),
    "case.assigned": gettext_lazy("案件の担当者になりました"),
    "digest.coordinator": gettext_lazy("今週の要確認事項"),
}

# How to build the web path of a notification's object, by object_type
# (`Notification.object_type` is the model name). Other apps add theirs with
# `notification_link_register` (programs: "enrolment").
LinkBuilder = Callable[[int], str | None]
LINKS: dict[str, LinkBuilder] = {}


def notification_subject_register(kind: str, subject: Any) -> None:
    """Give notifications of `kind` their own e-mail subject."""
    SUBJECTS[kind] = subject


def notification_link_register(object_type: str, build: LinkBuilder) -> None:
    """Let notifications about `object_type` link to the page build(id) returns."""
    LINKS[object_type] = build


def _case_path(case_id: int | None) -> str | None:
    return reverse("crm:case-detail", args=[case_id]) if case_id else None


notification_link_register("case", _case_path)
notification_link_register(
    "referral",
    lambda pk: _case_path(
        Referral.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    ),
)
notification_link_register(
    "followup",
    lambda pk: _case_path(
        FollowUp.objects.filter(pk=pk).values_list("case_id", flat=True).first()
    ),
)
# The weekly digest is about a coordinator's membership (its scope): what
# stalls there is on the coordinators' board.
notification_link_register("membership", lambda pk: reverse("crm:board"))


def notification_path(notification: Notification) -> str | None:
    """Return the web path of the object a notification is about, if any."""
    build = LINKS.get(notification.object_type)
    if build is None or not notification.object_id.isdigit():
        return None
    return build(int(notification.object_id))


def notification_url(notification: Notification) -> str | None:
    """Return the absolute URL of the notification's object (for e-mails)."""
    path = notification_path(notification)
    if not path:
        return None
    return str(getattr(settings, "CRM_SITE_URL", "")).rstrip("/") + path


def _subject(kind: str) -> str:
    return "[知財経営支援 CRM] " + str(SUBJECTS.get(kind) or _("お知らせ"))


def _body(notification: Notification) -> str:
    return render_to_string(
        "emails/notification.txt",
        {"message": notification.message, "url": notification_url(notification)},
    )


# --- e-mail --------------------------------------------------------------------


def email_lease() -> timedelta:
    """Return how long a worker holds an e-mail it is sending.

    Longer than a send can take (EMAIL_TIMEOUT per SMTP step), so a live
    worker is never overtaken; once it has run out, a mail whose worker died
    between claiming and sending is sent by the next one.
    settings.CRM_EMAIL_LEASE_SECONDS, default 300.
    """
    return timedelta(seconds=int(getattr(settings, "CRM_EMAIL_LEASE_SECONDS", 300)))


def email_unsent_q(now: datetime) -> Q:
    """Return 'not e-mailed yet, and nobody holds a live lease on it'."""
    return Q(emailed_at__isnull=True) & (
        Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - email_lease())
    )


def _email_message(notification: Notification, address: str) -> EmailMessage:
    domain = (
        str(getattr(settings, "DEFAULT_FROM_EMAIL", "")).rpartition("@")[2].strip(">")
        or "localhost"
    )
    return EmailMessage(
        _subject(notification.kind),
        _body(notification),
        None,  # DEFAULT_FROM_EMAIL
        [address],
        # The same Message-ID on every attempt: in the rare case of a second
        # delivery (a worker killed after the server accepted the mail but
        # before it recorded so), mail clients show one message.
        headers={"Message-ID": f"<crm-notification-{notification.pk}@{domain}>"},
    )


def notification_email_send(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """E-mail the notifications with these ids that were not e-mailed yet.

    Called by the task `crm.notification_email`. Each e-mail is taken on a
    lease first (a conditional UPDATE of `email_claimed_at`: row count 1
    wins), so a notification queued twice, or a retried job, is mailed once
    while the lease holds; `emailed_at` is written only after the mail
    server accepted the message. A failed send releases its lease for the
    retry; a worker killed mid-send leaves a lease that runs out
    (`email_lease`), after which the sweep's backlog (`email_unsent_q`)
    queues the mail again: at least once, never lost. Return how many
    e-mails were sent.
    """
    sent = 0
    for notification in (
        Notification.objects.filter(pk__in=list(ids), emailed_at__isnull=True)
        .select_related("recipient")
        .order_by("pk")
    ):
        address = getattr(notification.recipient, "email", "")
        if not address:
            continue  # in-app only; the row stays unmailed
        claimed_at = timezone.now()
        claimed = (
            Notification.objects.filter(pk=notification.pk)
            .filter(email_unsent_q(claimed_at))
            .update(email_claimed_at=claimed_at)
        )
        if claimed != 1:
            continue  # sent already, or another worker is sending it
        try:
            _email_message(notification, address).send()
        except (smtplib.SMTPException, OSError):
            # Release the lease so a later run can retry; the in-app row
            # already tells the recipient.
            Notification.objects.filter(
                pk=notification.pk, email_claimed_at=claimed_at
            ).update(email_claimed_at=None)
            logger.warning("notification %s: e-mail failed", notification.pk)
            continue
        Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=now or timezone.now()
        )
        logger.info(
            "e-mailed %s notification %s to user %s",
            notification.kind,
            notification.pk,
            notification.recipient_id,
        )
        sent += 1
    return sent
