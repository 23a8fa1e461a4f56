"""The reminder sweep: follow-up reminders, referral escalation and expiry.

Reminders live in the database, not in broker ETAs (DESIGN.md "Reminders and
scheduled work"): each source below finds what is due at `now`, claims it,
records that it was sent and writes the notification, so a sweep can run at
any moment, twice at once, or after an outage, and each reminder goes out
exactly once. Three locks make that hold:

1. `select_for_update(skip_locked=True)` (PostgreSQL) hands each batch of
   rows to one sweeper; concurrent sweepers take disjoint batches.
2. A conditional UPDATE re-checks the state the rows were selected in and
   must change every row of the batch, else the batch is rolled back and
   retried (this is the lock that also holds on SQLite, which ignores 1.).
3. The notification's `dedupe_key` (partial unique index) refuses a second
   row for the same reminder even if 1. and 2. were bypassed.

All three happen in one transaction per batch, so a worker killed mid-batch
leaves nothing half-written; the next sweep finds the rows still due. E-mail
copies are enqueued after commit (`notification_email_task`), and a broker
that is down only delays them: the rows stay unmailed, are logged, and the
next sweep enqueues them again.

Rules are support_network/reminder_rules.py's (its defaults, overridden by
settings.CRM_REMINDERS, overridden per organisation by
`Organisation.reminder_rules`: `reminder_rules(organisation)`): each source
runs once for the organisations on the network defaults and once for each
organisation with its own rules (`reminder_rule_groups`), so an override
costs one more query per source, not one per row.

The built-in sources are the functions in `SOURCES`
(crm/services/reminder_follow_ups.py, crm/services/reminder_referrals.py),
sharing crm/services/reminder_batches.py. Other apps plug theirs
in with `reminder_source_register(name, source)` (programs does so in its
AppConfig.ready(): IPAS end, iAca period review, day quota at 80 %, missing
support plan), since crm must not import them. A registered source is called
as `source(now, batch_size=…)`, claims and records its own reminders the
same way (SKIP LOCKED, dedupe keys, `notify_many`) and returns its counts,
which the sweep adds to its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from django.utils import timezone

from crm.models import AuditEvent, Notification
from crm.services.audit import audit_record
from crm.services.notification_emails import email_unsent_q
from crm.services.notifications import enqueue_emails
from crm.services.reminder_batches import (
    BATCH_SIZE,
    RuleGroup,
    SweepResult,
    office_day,
    reminder_rule_groups,
)
from crm.services.reminder_follow_ups import follow_up_escalations, follow_up_reminders
from crm.services.reminder_referrals import (
    referral_escalations,
    referral_expiries,
    referral_reminders,
)
from support_network.reminder_rules import reminder_rules

logger = logging.getLogger(__name__)

# Notifications older than this are not e-mailed again by the sweep.
EMAIL_BACKLOG_WINDOW = timedelta(days=2)

SWEEP_AUDIT_ACTION = "reminders.sweep"

# A built-in source: (now, day, rules, batch_size, result, scope) -> None,
# where scope selects the rows the rules apply to (a RuleGroup).
Source = Callable[..., None]


def _email_backlog(now: datetime, batch_size: int, result: SweepResult) -> None:
    """Queue again the recent e-mails that were never sent.

    They are left over when the broker was down at commit time (any
    notification: reminders, referral answers, assignments, milestones),
    when the task's retries ran out, or when a worker died between taking
    the e-mail's lease and sending it (the lease has run out);
    `notification_email_send` leases each row, so a copy queued twice is
    still mailed once.
    """
    ids = list(
        Notification.objects.filter(
            # unsent, and not held by a live worker (a lease that ran out is
            # a worker that died mid-send: its mail is sent again)
            email_unsent_q(now),
            created_at__gte=now - EMAIL_BACKLOG_WINDOW,
            created_at__lt=now - timedelta(minutes=1),
        )
        .exclude(recipient__email="")
        .order_by("pk")
        .values_list("pk", flat=True)[: batch_size * 10]
    )
    for start in range(0, len(ids), batch_size):
        if enqueue_emails(ids[start : start + batch_size]):
            result.counts["email.requeued"] += len(ids[start : start + batch_size])


# Built-in sources, in order, with the field naming the organisation whose
# rules apply: the follow-up's own, the referral's receiver.
SOURCES: list[tuple[Source, str]] = [
    (follow_up_reminders, "organisation_id"),
    (follow_up_escalations, "organisation_id"),
    (referral_reminders, "to_organisation_id"),
    (referral_escalations, "to_organisation_id"),
    (referral_expiries, "to_organisation_id"),
]

# Sources other apps registered: name → source(now, *, batch_size) → counts.
PluginSource = Callable[..., Mapping[str, int]]
REMINDER_SOURCES: dict[str, PluginSource] = {}


def reminder_source_register(name: str, source: PluginSource) -> None:
    """Let the sweep call `source(now, batch_size=…)` after the built-in sources.

    The source finds what is due at `now` (in office hours, with the rules
    of `reminder_rule_groups`), records each reminder exactly once (SKIP
    LOCKED and dedupe keys, `notify_many`) and returns its counts by kind.
    Registering a name again replaces the source (AppConfig.ready() may run
    more than once).
    """
    REMINDER_SOURCES[name] = source


def reminders_sweep(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> SweepResult:
    """Send every reminder, escalation and expiry due at `now`, each once.

    Safe to run concurrently and repeatedly; outside office hours it only
    re-queues unsent e-mails. Records the sweep as an AuditEvent
    (`reminders.sweep`), which the health page reads. A registered source
    that fails is logged and counted ("<name>.failed") without stopping
    the others.
    """
    now = now or timezone.now()
    result = SweepResult()
    result.is_office_hours = office_day(now, reminder_rules()) is not None
    groups_by_field: dict[str, list[RuleGroup]] = {}
    for source, organisation_field in SOURCES:
        if organisation_field not in groups_by_field:
            groups_by_field[organisation_field] = reminder_rule_groups(
                organisation_field
            )
        for group in groups_by_field[organisation_field]:
            day = group.office_day(now)
            if day is not None:
                source(now, day, group.rules, batch_size, result, group.scope)
    for name, plugin in list(REMINDER_SOURCES.items()):
        try:
            counts = plugin(now, batch_size=batch_size)
        except Exception:
            logger.exception("reminder source %s failed at %s", name, now.isoformat())
            result.counts[f"{name}.failed"] += 1
            continue
        for kind, n in (counts or {}).items():
            if n:
                result.counts[kind] += n
    _email_backlog(timezone.now(), batch_size, result)
    audit_record(
        actor=None,
        action=SWEEP_AUDIT_ACTION,
        data={"now": now.isoformat(), "counts": result.as_dict()},
    )
    if result.total:
        logger.info("reminders sweep at %s: %s", now.isoformat(), result.as_dict())
    return result


def reminders_last_sweep_at() -> datetime | None:
    """Return when the last sweep finished (wall clock), if any."""
    return (
        AuditEvent.objects.filter(action=SWEEP_AUDIT_ACTION)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
