"""Celery adapters of crm services (STYLE.md §6).

Each task takes JSON primitives, calls one service and returns a small
summary. All are idempotent: state lives in our tables, so `acks_late`
redelivery after a lost worker repeats nothing. Names are explicit so
`celery inspect` and the beat schedule in the database stay readable.

This module is the only seam to the broker: services queue work with
`enqueue` (one policy for a broker outage), and the tasks read their
`--now` with `support_network.calendar.moment_parse`, as the commands do.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException
from typing import Any

from celery import shared_task
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

from support_network.calendar import moment_parse

logger = logging.getLogger(__name__)

# A short retry on the publish itself, so a broker restart of a second or
# two costs nothing; longer outages are the sweeps' business (below).
ENQUEUE_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2}


def enqueue(task: Any, *, what: str, **kwargs: Any) -> bool:
    """Queue `task` with these keyword arguments; never raise. Return whether queued.

    The one broker-error policy of crm: a broker outage must neither lose
    nor fail the user's write. Callers enqueue after their transaction has
    committed (`transaction.on_commit`) work that is already recorded in our
    tables (an unmailed notification, a pending export), so when the broker
    cannot take the message a warning naming `what` is logged and the work
    waits there: the periodic sweep that looks for it (the reminder sweep's
    e-mail backlog, `crm.exports_reclaim`) queues it again once the broker
    is back. Late, never lost, and the caller's request still succeeds.
    """
    try:
        task.apply_async(kwargs=kwargs, retry=True, retry_policy=ENQUEUE_RETRY_POLICY)
    # What the broker client raises when it cannot take the message (kombu
    # wraps redis' errors; a socket error may come through bare): the
    # caller's work is committed and must not fail because of the queue.
    except (KombuError, RedisError, OSError) as exc:
        logger.warning("%s not queued (the sweep will queue it again): %s", what, exc)
        return False
    return True


class EmailNotSent(ConnectionError):
    """Some e-mail copies failed; raised so Celery retries them with backoff."""


@shared_task(name="crm.reminders_sweep")
def reminders_sweep_task(now: str | None = None) -> dict:
    """Run the reminder sweep (every 5 minutes from beat) and return its counts."""

    from crm.services.reminders import reminders_sweep

    return reminders_sweep(now=moment_parse(now)).as_dict()


@shared_task(name="crm.coordinator_digest")
def coordinator_digest_task(now: str | None = None) -> dict:
    """Send the weekly coordinator digests (Monday 08:00 JST from beat).

    At most one per coordinator and ISO week (dedupe key), so a redelivered
    or repeated run sends nothing new.
    """

    from crm.services.digest import coordinator_digest_send

    return dict(coordinator_digest_send(now=moment_parse(now)))


# Limits as crm/exports/build.py EXPORT_SOFT_TIME_LIMIT / EXPORT_TIME_LIMIT:
# a national fiscal year in xlsx takes about a minute; the broker's
# visibility timeout (3600 s) stays above the hard limit.
@shared_task(
    name="crm.export_build",
    bind=True,
    soft_time_limit=1800,
    time_limit=1900,
    max_retries=30,
)
def export_build_task(self, export_id: int) -> dict:
    """Build an export's file (idempotent: only the call that claims it builds).

    A delivery that finds the export running elsewhere comes back once the
    heartbeat would have gone stale: after a worker was killed, the
    redelivered task is the one that builds it again, within minutes
    (issue 26 item 7); while the other build lives it only waits.
    """
    from crm.exports.build import export_build, export_heartbeat_stale

    result = export_build(export_id=export_id)
    if not result["claimed"] and result["status"] == "running":
        raise self.retry(countdown=export_heartbeat_stale().total_seconds() + 5)
    return result


@shared_task(name="crm.exports_reclaim")
def exports_reclaim_task(now: str | None = None) -> dict:
    """Queue again exports whose worker died or whose message was lost (every minute)."""

    from crm.exports.sweeps import exports_reclaim

    return exports_reclaim(now=moment_parse(now))


@shared_task(name="crm.exports_cleanup")
def exports_cleanup_task(now: str | None = None) -> dict:
    """Delete expired export files and rows (daily from beat)."""

    from crm.exports.sweeps import exports_cleanup

    return exports_cleanup(now=moment_parse(now))


@shared_task(name="crm.retention_apply", soft_time_limit=3000, time_limit=3300)
def retention_apply_task(now: str | None = None) -> dict:
    """Run the retention sweep (daily from beat) and return its counts."""

    from crm.services.retention import retention_apply

    return retention_apply(now=moment_parse(now))


class MonthlyReportNotSent(ConnectionError):
    """Some monthly reports failed; raised so Celery retries them the same day."""


@shared_task(
    name="crm.monthly_report",
    autoretry_for=(MonthlyReportNotSent,),
    retry_backoff=300,
    retry_backoff_max=3600,
    max_retries=6,
)
def monthly_report_send_task(now: str | None = None) -> dict:
    """Mail managers their monthly statistics (daily from beat; acts on the
    first business day of the month only, once per manager per month)."""

    from crm.services.monthly_report import monthly_report_send

    result = monthly_report_send(now=moment_parse(now))
    if result.failed:
        raise MonthlyReportNotSent(f"{result.failed} monthly reports not sent")
    return result.as_dict()


@shared_task(
    name="crm.notification_email",
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def notification_email_task(ids: list[int]) -> int:
    """E-mail the notifications with these ids; retry those that failed.

    `notification_email_send` leases each row (email_claimed_at) and marks
    it sent (emailed_at) after the server accepted it, so a redelivered or
    retried task mails nobody twice; it releases the lease of a failed send,
    and this task then raises to be retried with backoff. A row another
    worker holds a live lease on is that worker's, not a failure here.
    """
    from django.utils import timezone

    from crm.models import Notification
    from crm.services.notification_emails import email_unsent_q, notification_email_send

    sent = notification_email_send(ids=ids)
    failed = list(
        Notification.objects.filter(email_unsent_q(timezone.now()), pk__in=ids)
        .exclude(recipient__email="")
        .values_list("pk", flat=True)
    )
    if failed:
        raise EmailNotSent(f"{len(failed)} e-mails not sent: {failed[:10]}")
    return sent


@shared_task(
    name="crm.survey_email",
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=1800,
    retry_jitter=True,
    max_retries=8,
)
def survey_email_task(survey_id: int, now: str | None = None) -> str:
    """E-mail one satisfaction survey the sweep claimed; retry a failed send.

    `survey_email_send` leases the survey (email_claimed_at) and marks it
    sent after the server accepted the mail, so a redelivered or retried
    task mails nobody twice; a failed send releases the lease and this task
    raises to be retried with backoff. When the retries run out the survey
    stays `sending` and the next reminder sweep queues it again.
    """
    from crm.services.surveys import survey_email_send

    result = survey_email_send(
        survey_id=survey_id, now=moment_parse(now)
    )
    if result == "failed":
        raise EmailNotSent(f"survey {survey_id}: e-mail not sent")
    return result


@shared_task(name="crm.import_validate", soft_time_limit=1200, time_limit=1300)
def import_validate_task(import_id: int) -> dict:
    """Run an import's dry run (idempotent: only a validating import is checked)."""
    from crm.services.imports import import_validate

    return import_validate(import_id=import_id)


# 50,000 rows take minutes; the hard limit stays under the broker's
# visibility timeout (3600 s), and a redelivered commit resumes after the
# last batch written (crm.services.import_commit.import_commit).
@shared_task(name="crm.import_commit", soft_time_limit=3000, time_limit=3300)
def import_commit_task(import_id: int) -> dict:
    """Write an import's valid rows (idempotent: only the claiming call writes)."""
    from crm.services.import_commit import import_commit

    return import_commit(import_id=import_id)
