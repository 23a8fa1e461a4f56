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
   Celery task `crm.notification_email` (`enqueue_emails`, through
   `crm.tasks.enqueue`), so nobody is
   mailed about something that was rolled back, and a slow or failing SMTP
   server never blocks the caller: the task retries with backoff.
3. The task (`notification_email_send`, crm/services/notification_emails.py) takes each row on a lease
   (`email_claimed_at`) before sending and marks it sent (`emailed_at`) only
   after the mail server accepted it, so a copy queued twice, or
   redelivered, is mailed once, and one whose worker died mid-send is sent
   by another worker once the lease has run out (at least once, duplicated
   only if the worker dies between the server's acceptance and the UPDATE).
   A broker that is down only delays e-mails: the rows stay unmailed and
   the reminder sweep queues them again (`reminders._email_backlog`).

Who is told, and what (issue 26; docs/operations.md "Notifications"):
`notify_many` writes rows only for the recipients who may open the object,
and a neutral text about a confidential case, by the rules of
crm/services/notification_audiences.py; rows recorded before these rules
are brought under them by crm/services/notification_redaction.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Notification
from crm.services.notification_audiences import recipients_who_may_see, safe_message
from crm.tasks import enqueue, notification_email_task
from support_network.actors import Actor
from support_network.errors import NotVisible

# The logger keeps the name it had before notifications were split into
# modules: operators filter on it (docs/operations.md "Logs").
logger = logging.getLogger("crm.services.notifications")


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
    items = list(items)
    # Only recipients who may open the object are told (issue 26).
    audiences = recipients_who_may_see((item.obj, item.recipients) for item in items)
    for item, recipients in zip(items, audiences, strict=True):
        obj = item.obj
        object_type = obj._meta.model_name if obj is not None else ""
        object_id = str(obj.pk) if obj is not None else ""
        message = safe_message(item.kind or kind, item) if recipients else ""
        for user in {u.pk: u for u in recipients}.values():
            row = Notification(
                recipient_id=user.pk,
                kind=item.kind or kind,
                message=message,
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
        _insert_keyed(keyed)
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


def _insert_keyed(rows: list[Notification]) -> None:
    """INSERT rows with a dedupe key, ignoring the ones recorded before.

    On PostgreSQL one INSERT … SELECT FROM unnest(arrays): the rows travel as
    seven arrays instead of 7 × N placeholders that Django compiles value by
    value (bench/reminder_sweep.py: 14.2 → 12.9 s for 100k reminders).
    Elsewhere (SQLite) bulk_create does the same.
    """
    if connection.vendor != "postgresql":
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        return
    table = connection.ops.quote_name(Notification._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (recipient_id, kind, message, object_type,"
            " object_id, dedupe_key, created_at)"
            " SELECT * FROM unnest(%s::integer[], %s::text[], %s::text[],"
            " %s::text[], %s::text[], %s::text[], %s::timestamptz[])"
            " ON CONFLICT DO NOTHING",
            [
                [n.recipient_id for n in rows],
                [n.kind for n in rows],
                [n.message for n in rows],
                [n.object_type for n in rows],
                [n.object_id for n in rows],
                [n.dedupe_key for n in rows],
                [n.created_at for n in rows],
            ],
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


def enqueue_emails(ids: list[int]) -> bool:
    """Queue the e-mail copies of notifications on `crm.notification_email`.

    Never raises (`crm.tasks.enqueue`): with the broker down the
    notifications are already recorded in-app; the e-mails stay unsent
    (emailed_at NULL), a warning is logged and the next reminder sweep
    queues them again, so they are late, not lost. Return whether they were
    queued.
    """
    if not ids:
        return True
    return enqueue(
        notification_email_task,
        what=f"e-mail of {len(ids)} notifications",
        ids=list(ids),
    )


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
