"""In-app notifications, and their e-mail copies sent by a retrying task.

A notification row is the record that someone was told something; the
e-mail is a copy of it. There is one path for both, whoever notifies (a
referral answer, an assignment, the reminder sweep, a program milestone, the
weekly digest):

1. `notify_many` writes the rows of many events in one INSERT, inside the
   caller's transaction, so a refused action leaves none behind. A
   `dedupe_key` makes an event exactly-once per recipient even when two
   sweepers record it at the same moment (partial unique index
   crm_notification_dedupe_unique; DESIGN.md "Reminders and scheduled work").
2. After commit (`transaction.on_commit`) it queues the e-mail copies on the
   Celery task `crm.notification_email` (`enqueue_emails`), so nobody is
   mailed about something that was rolled back, and a slow or failing SMTP
   server never blocks the caller: the task retries with backoff.
3. The task (`notification_email_send`) claims each row (`emailed_at`) before
   sending, so a copy queued twice, or redelivered, is mailed once. A broker
   that is down only delays e-mails: the rows stay unmailed and the reminder
   sweep queues them again (`reminders._email_backlog`).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import FollowUp, Notification, Referral
from support_network.actors import Actor
from support_network.errors import NotVisible

logger = logging.getLogger(__name__)

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


# --- recording ---------------------------------------------------------------


@dataclass(frozen=True)
class NotificationItem:
    """One event to tell: who, what, about which object, and its dedupe key.

    With `dedupe_key` the event is recorded at most once per recipient: each
    row gets "<dedupe_key>:u<user id>". `kind` overrides the kind given to
    `notify_many` for this item.
    """

    recipients: Iterable[Any]
    message: str
    obj: Any = None
    dedupe_key: str | None = None
    kind: str | None = None


def notify_many(
    items: Iterable[NotificationItem],
    *,
    kind: str,
    now: datetime | None = None,
) -> list[int]:
    """Record the notifications of many events; queue their e-mails after commit.

    One INSERT for the rows with a dedupe key (conflicts ignored: the unique
    index, not a prior SELECT, decides who records an event, so concurrent
    callers cannot both insert) and one for the others; this is what keeps
    the sweep of 100k reminders within DESIGN.md's 20 s. Return the ids of
    every row of these events, written now or earlier.
    """
    now = now or timezone.now()
    keyed: list[Notification] = []
    plain: list[Notification] = []
    for item in items:
        obj = item.obj
        object_type = obj._meta.model_name if obj is not None else ""
        object_id = str(obj.pk) if obj is not None else ""
        for user in {u.pk: u for u in item.recipients if u is not None}.values():
            row = Notification(
                recipient_id=user.pk,
                kind=item.kind or kind,
                message=item.message,
                object_type=object_type,
                object_id=object_id,
                dedupe_key=f"{item.dedupe_key}:u{user.pk}" if item.dedupe_key else None,
                created_at=now,
            )
            (keyed if item.dedupe_key else plain).append(row)
            # DEBUG, not INFO: 100k lines per sweep cost seconds; the rows
            # themselves are the record, and the callers log their counts.
            logger.debug("%s %s → user %s", row.kind, row.dedupe_key or "", user.pk)
    ids: list[int] = []
    to_mail: list[int] = []
    if plain:
        ids += [n.pk for n in Notification.objects.bulk_create(plain)]
        to_mail += list(
            Notification.objects.filter(pk__in=ids)
            .exclude(recipient__email="")
            .values_list("pk", flat=True)
        )
    if keyed:
        Notification.objects.bulk_create(keyed, ignore_conflicts=True)
        # One query gives the rows of these events and which still need an
        # e-mail (not mailed yet, recipient with an address).
        for pk, emailed_at, address in Notification.objects.filter(
            dedupe_key__in=[n.dedupe_key for n in keyed]
        ).values_list("pk", "emailed_at", "recipient__email"):
            ids.append(pk)
            if emailed_at is None and address:
                to_mail.append(pk)
    if to_mail:
        transaction.on_commit(lambda: enqueue_emails(sorted(to_mail)))
    return ids


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    message: str,
    obj: Any = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Record one event for each recipient and e-mail it after commit.

    The single-event form of `notify_many` (same rows, same e-mail path).
    With `dedupe_key` a second call (or a concurrent one) adds no row and
    sends no e-mail. Return the rows of this event, whether written now or
    earlier.
    """
    ids = notify_many(
        [
            NotificationItem(
                recipients=recipients, message=message, obj=obj, dedupe_key=dedupe_key
            )
        ],
        kind=kind,
        now=now,
    )
    if not ids:
        return []
    return list(
        Notification.objects.filter(pk__in=ids)
        .select_related("recipient")
        .order_by("pk")
    )


# --- e-mail --------------------------------------------------------------------


def enqueue_emails(ids: list[int]) -> bool:
    """Queue the e-mail copies of notifications on `crm.notification_email`.

    Never raises: with the broker down the notifications are already
    recorded in-app; the e-mails stay unsent (emailed_at NULL), a warning is
    logged and the next reminder sweep queues them again, so they are late,
    not lost. Return whether they were queued.
    """
    if not ids:
        return True
    from crm.tasks import notification_email_task

    try:
        notification_email_task.apply_async(
            kwargs={"ids": list(ids)},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2},
        )
    # Whatever the broker client raises (refused, timeout, auth), the caller
    # has committed its work and must not fail because of an e-mail.
    except Exception as exc:
        logger.warning("e-mail of %d notifications not queued: %s", len(ids), exc)
        return False
    return True


def notification_email_send(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """E-mail the notifications with these ids that were not e-mailed yet.

    Called by the task `crm.notification_email`. Each e-mail is claimed first
    with a conditional UPDATE of `emailed_at` (row count 1 wins), so a
    notification queued twice, or a retried job, is mailed once; a failed
    send releases its claim for the retry. Return how many e-mails were sent.
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
        claimed = Notification.objects.filter(
            pk=notification.pk, emailed_at__isnull=True
        ).update(emailed_at=now or timezone.now())
        if claimed != 1:
            continue
        try:
            send_mail(
                _subject(notification.kind),
                _body(notification),
                None,  # DEFAULT_FROM_EMAIL
                [address],
            )
        except (smtplib.SMTPException, OSError):
            # Release the claim so a later run can retry; the in-app row
            # already tells the recipient.
            Notification.objects.filter(pk=notification.pk).update(emailed_at=None)
            logger.warning("notification %s: e-mail failed", notification.pk)
            continue
        logger.info(
            "e-mailed %s notification %s to user %s",
            notification.kind,
            notification.pk,
            notification.recipient_id,
        )
        sent += 1
    return sent


@transaction.atomic
def notification_read(
    *, actor: Actor, notification: Notification, now: datetime | None = None
) -> Notification:
    """Mark one of the actor's notifications read (a second call changes nothing)."""
    if notification.recipient_id != actor.user.pk:
        raise NotVisible(_("見つかりません。"))
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )
    notification.refresh_from_db()
    return notification
