"""In-app notifications, each also sent by e-mail once its transaction commits.

A notification row is the record that someone was told something; the
e-mail is a copy of it. Rows are written inside the caller's transaction (so
a refused action leaves none behind), and e-mails go out only after commit
(so nobody is mailed about something that was rolled back). A `dedupe_key`
makes a notification exactly-once even when two sweepers record it at the
same moment (DESIGN.md "Reminders and scheduled work").
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Notification
from support_network.actors import Actor
from support_network.errors import NotVisible

logger = logging.getLogger(__name__)

# Subjects of the e-mail copy, by notification kind (Japanese UI strings).
# A kind without an entry gets the generic subject.
SUBJECTS = {
    "referral.sent": gettext_lazy("紹介が届きました"),
    "referral.accepted": gettext_lazy("紹介が受け入れられました"),
    "referral.declined": gettext_lazy("紹介が辞退されました"),
    "referral.completed": gettext_lazy("紹介の結果報告が届きました"),
    "referral.cancelled": gettext_lazy("紹介が取り消されました"),
    "referral.expired": gettext_lazy("紹介が回答期限切れになりました"),
    "case.assigned": gettext_lazy("案件の担当者になりました"),
}


def _subject(kind: str) -> str:
    return "[知財経営支援 CRM] " + str(SUBJECTS.get(kind) or _("お知らせ"))


def _body(notification: Notification) -> str:
    return "\n".join(
        [
            notification.message,
            "",
            _("詳細は知財経営支援 CRM でご確認ください。"),
            _("（このメールは送信専用です。返信はできません。）"),
        ]
    )


def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    message: str,
    obj: Any = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Record a notification for each recipient and e-mail it after commit.

    With `dedupe_key` the event is recorded at most once per recipient: each
    row gets the key "<dedupe_key>:u<user id>", which the partial unique
    constraint crm_notification_dedupe_unique guards, so a second call (or a
    concurrent one) adds no row and sends no e-mail. Return the rows of this
    event, whether written now or earlier.
    """
    now = now or timezone.now()
    users = list({u.pk: u for u in recipients if u is not None}.values())
    if not users:
        return []
    object_type = obj._meta.model_name if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""

    def row(user) -> Notification:
        return Notification(
            recipient=user,
            kind=kind,
            message=message,
            object_type=object_type,
            object_id=object_id,
            dedupe_key=f"{dedupe_key}:u{user.pk}" if dedupe_key else None,
            created_at=now,
        )

    if dedupe_key is None:
        rows = Notification.objects.bulk_create([row(u) for u in users])
    else:
        keys = [f"{dedupe_key}:u{u.pk}" for u in users]
        # ignore_conflicts: the unique index, not a prior SELECT, decides
        # who records the event, so concurrent callers cannot both insert.
        Notification.objects.bulk_create(
            [row(u) for u in users], ignore_conflicts=True
        )
        rows = list(
            Notification.objects.filter(dedupe_key__in=keys).select_related(
                "recipient"
            )
        )
    ids = [n.pk for n in rows]
    transaction.on_commit(lambda: notification_email_send(ids=ids))
    return rows


def notification_email_send(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """E-mail the notifications with these ids that were not e-mailed yet.

    Each e-mail is claimed first with a conditional UPDATE of `emailed_at`
    (row count 1 wins), so a notification recorded by two callers, or a
    retried job, is mailed once. Return how many e-mails were sent.
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
