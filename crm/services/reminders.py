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

Rules come from settings.CRM_REMINDERS, overridden per organisation by
`Organisation.reminder_rules` (`reminder_rules(organisation)`): each source
runs once for the organisations on the network defaults and once for each
organisation with its own rules (`reminder_rule_groups`), so an override
costs one more query per source, not one per row.

The built-in sources are the functions in `SOURCES`. Other apps plug theirs
in with `reminder_source_register(name, source)` (programs does so in its
AppConfig.ready(): IPAS end, iAca period review, day quota at 80 %, missing
support plan), since crm must not import them. A registered source is called
as `source(now, batch_size=…)`, claims and records its own reminders the
same way (SKIP LOCKED, dedupe keys, `notify_many`) and returns its counts,
which the sweep adds to its result.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import FollowUpStatus, ReferralStatus
from crm.models import AuditEvent, FollowUp, Notification, Referral
from crm.services.audit import audit_record
from crm.services.notifications import (
    NotificationItem,
    email_unsent_q,
    enqueue_emails,
    notify_many,
    recipients_who_may_see,
)
from crm.services.referrals import referral_expire, referral_receivers_to_notify
from support_network.calendar import JST, is_business_day, local_date
from support_network.choices import NATIONAL_HUB_KINDS, Role
from support_network.errors import Conflict
from support_network.models import Organisation
from support_network.people import person_name
from support_network.reminder_rules import reminder_rules_errors
from support_network.selectors import (
    active_memberships,
    hub_organisations_for_prefecture,
)

logger = logging.getLogger(__name__)

# Rows claimed per transaction: bounded time and memory (STYLE.md §6).
BATCH_SIZE = 500

# Notifications older than this are not e-mailed again by the sweep.
EMAIL_BACKLOG_WINDOW = timedelta(days=2)

# Defaults of settings.CRM_REMINDERS (DESIGN.md / issue 5 "Rules").
DEFAULT_RULES: dict[str, Any] = {
    "SEND_AT": "09:00",  # JST, on business days only
    "FOLLOW_UP_MAX_REMINDERS": 3,
    "FOLLOW_UP_ESCALATE_ROLES": (Role.COORDINATOR, Role.MANAGER),
    "REFERRAL_REMIND_AFTER_BUSINESS_DAYS": 2,
    "REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS": 3,
    "REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS": 10,
    "PROGRAM_END_NOTICE_DAYS": 14,
    "PROGRAM_PERIOD_REVIEW_NOTICE_DAYS": 30,
    "PROGRAM_DAY_QUOTA_ALERT_PERCENT": 80,
    "PROGRAM_PLAN_MISSING_AFTER_DAYS": 14,
}

SWEEP_AUDIT_ACTION = "reminders.sweep"


def _overrides(organisation_id: int, raw: Any) -> dict[str, Any]:
    """Return the valid part of an organisation's stored overrides.

    The admin and the model refuse bad values; a value written around them
    (shell, SQL) is ignored with a warning rather than stopping the sweep.
    """
    cleaned, errors = reminder_rules_errors(raw)
    if errors:
        logger.warning(
            "organisation %s: reminder_rules ignored: %s", organisation_id, errors
        )
        return {}
    return cleaned


def reminder_rules(organisation: Organisation | None = None) -> dict[str, Any]:
    """Return the reminder rules of an organisation (or the network defaults).

    DEFAULT_RULES, overridden by settings.CRM_REMINDERS, overridden by the
    organisation's own `reminder_rules` (support_network/reminder_rules.py).
    """
    rules = {**DEFAULT_RULES, **getattr(settings, "CRM_REMINDERS", {})}
    if organisation is not None and organisation.reminder_rules:
        rules.update(_overrides(organisation.pk, organisation.reminder_rules))
    return rules


@dataclass(frozen=True)
class RuleGroup:
    """Rows that share one set of rules: `scope` selects them."""

    rules: dict[str, Any]
    scope: Q
    organisation_id: int | None = None  # None: every organisation without overrides

    def office_day(self, now: datetime) -> date | None:
        return office_day(now, self.rules)


def reminder_rule_groups(organisation_field: str) -> list[RuleGroup]:
    """Split rows by the rules of the organisation at `organisation_field`.

    The first group is every organisation on the network defaults; then one
    group per organisation with overrides. `organisation_field` is the path
    to the organisation's id ("organisation_id", "to_organisation_id").
    """
    base = reminder_rules()
    stored = dict(
        Organisation.objects.exclude(reminder_rules={}).values_list(
            "pk", "reminder_rules"
        )
    )
    own = {pk: _overrides(pk, raw) for pk, raw in stored.items()}
    own = {pk: rules for pk, rules in own.items() if rules}
    default_scope = ~Q(**{f"{organisation_field}__in": list(own)}) if own else Q()
    groups = [RuleGroup(base, default_scope)]
    for pk in sorted(own):
        groups.append(RuleGroup({**base, **own[pk]}, Q(**{organisation_field: pk}), pk))
    return groups


@dataclass
class SweepResult:
    """What one sweep did, counted per kind (e.g. "follow_up.reminder")."""

    counts: Counter = field(default_factory=Counter)
    is_office_hours: bool = True

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


class _Contended(Exception):
    """A batch lost a row to a concurrent sweeper; roll it back and retry."""


# --- calendar helpers -----------------------------------------------------


def _send_time(rules: dict[str, Any]) -> time:
    hour, minute = (int(p) for p in str(rules["SEND_AT"]).split(":"))
    return time(hour, minute)


def office_day(now: datetime, rules: dict[str, Any]) -> date | None:
    """Return the JST day if `now` is at/after the send time on a business day.

    Reminders go out only then (09:00 JST on 行政機関 business days,
    reference/calendar.md §2); a reminder due on a closure day waits for the
    next business day, and one missed while the sweep was down goes out at
    the next sweep inside office hours: late, never lost.
    """
    local = now.astimezone(JST)
    day = local.date()
    if not is_business_day(day) or local.time() < _send_time(rules):
        return None
    return day


def _nth_business_day_back(day: date, n: int) -> date:
    """Return the n-th business day counting back from `day` (inclusive)."""
    d, found = day, 0
    while True:
        if is_business_day(d):
            found += 1
            if found == n:
                return d
        d -= timedelta(days=1)


def _sent_before(day: date, business_days: int) -> datetime:
    """Return the cutoff: sent before it ⇔ ≥ `business_days` business days ago.

    `business_days_between(sent, day) >= n` holds exactly when the JST date of
    sending is before the n-th business day counting back from `day`.
    """
    start = _nth_business_day_back(day, business_days)
    return datetime.combine(start, time(), tzinfo=JST)


# --- recording notifications ------------------------------------------------


def members(organisation_ids: Iterable[int], roles: Iterable[str]) -> dict:
    """Return {organisation id: [active users with one of roles]}."""
    found: dict[int, list] = {}
    for m in (
        active_memberships()
        .filter(organisation_id__in=set(organisation_ids), role__in=list(roles))
        .select_related("user")
        .order_by("user_id")
    ):
        found.setdefault(m.organisation_id, []).append(m.user)
    return found


def _record(
    items: list[tuple[str, Iterable[Any], str, Any]], *, kind: str, now: datetime
) -> list[int]:
    """Write the notifications of a batch (dedupe key, recipients, message, object).

    `notify_many` does the work: one INSERT per batch, rows keyed
    "<key>:u<user id>", e-mails queued on the retrying task after commit.
    """
    return notify_many(
        [
            NotificationItem(recipients=r, message=m, obj=o, dedupe_key=k)
            for k, r, m, o in items
        ],
        kind=kind,
        now=now,
    )


# --- sources -----------------------------------------------------------------

# A built-in source: (now, day, rules, batch_size, result, scope) -> None,
# where scope selects the rows the rules apply to (a RuleGroup).
Source = Callable[..., None]


def _claim_batches(
    qs, *, batch_size: int, process: Callable[[list], None], label: str
) -> None:
    """Lock batches of qs with SKIP LOCKED and process each in one transaction.

    Each batch starts past the last one (keyset on pk): restarting from the
    first row made every batch rescan all the rows earlier batches had taken,
    quadratic over 100k due rows. Rows skipped while another sweeper held
    them are not lost: one more pass from the start picks up any that the
    other sweeper rolled back.
    """
    after, rescanned = None, False
    while True:
        page = qs if after is None else qs.filter(pk__gt=after)
        try:
            with transaction.atomic():
                batch = list(
                    page.select_for_update(skip_locked=True, of=("self",)).order_by(
                        "pk"
                    )[:batch_size]
                )
                if batch:
                    process(batch)
        except _Contended:
            logger.info("%s: batch contended, retrying", label)
            continue
        if len(batch) == batch_size:
            after = batch[-1].pk
        elif after is None or rescanned:
            return
        else:
            after, rescanned = None, True


# Public: other apps' sources claim their rows the same way.
claim_batches = _claim_batches


def follow_up_reminders(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Remind assignees of open follow-ups due by `day`, once per business day."""
    max_reminders = int(rules["FOLLOW_UP_MAX_REMINDERS"])
    due = FollowUp.objects.filter(
        scope,
        Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=day),
        status=FollowUpStatus.OPEN,
        due_on__lte=day,
        escalated_at__isnull=True,
        reminded_count__lt=max_reminders,
    )

    def process(batch: list[FollowUp]) -> None:
        # Counts differ per row, so the UPDATE re-checks the selection and
        # increments with F(); it must touch every locked row.
        updated = due.filter(pk__in=[f.pk for f in batch]).update(
            reminded_count=F("reminded_count") + 1,
            last_reminded_on=day,
            updated_at=now,
        )
        if updated != len(batch):
            raise _Contended
        items = []
        for f in batch:
            n = f.reminded_count + 1
            if f.due_on >= day:
                text = _("本日が期日のフォローアップがあります: %(case)s %(note)s")
            else:
                text = _(
                    "期日（%(due)s）を過ぎたフォローアップがあります"
                    "（%(n)s回目のお知らせ）: %(case)s %(note)s"
                )
            message = text % {
                "case": f.case.title,
                "note": f.note,
                "due": f"{f.due_on.year}/{f.due_on.month}/{f.due_on.day}",
                "n": n,
            }
            items.append(
                (f"followup:{f.pk}:remind:{day.isoformat()}", [f.assignee], message, f)
            )
        _record(items, kind="follow_up.reminder", now=now)
        result.counts["follow_up.reminder"] += len(batch)

    # Only the columns the message and the notification need: a full User
    # and Case per row are costly to fetch and build at 100k rows.
    _claim_batches(
        due.select_related("case", "assignee").only(
            "case__title",
            # who may see it (notifications.sees_own_case) and whether the
            # text must stay neutral (a confidential case)
            "case__organisation",
            "case__assignee",
            "case__is_confidential",
            "assignee__id",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "due_on",
            "note",
            "reminded_count",
        ),
        batch_size=batch_size,
        process=process,
        label="follow_up.reminder",
    )


def follow_up_escalations(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Escalate follow-ups still open a business day after the last reminder."""
    due = FollowUp.objects.filter(
        scope,
        status=FollowUpStatus.OPEN,
        due_on__lte=day,
        escalated_at__isnull=True,
        reminded_count__gte=int(rules["FOLLOW_UP_MAX_REMINDERS"]),
        last_reminded_on__lt=day,
    )
    roles = rules["FOLLOW_UP_ESCALATE_ROLES"]

    def process(batch: list[FollowUp]) -> None:
        updated = due.filter(pk__in=[f.pk for f in batch]).update(
            escalated_at=now, updated_at=now
        )
        if updated != len(batch):
            raise _Contended
        leads = members({f.organisation_id for f in batch}, roles)
        fallback = members({f.organisation_id for f in batch}, [Role.ORG_ADMIN])
        # Only leads who may see the follow-up (issue 26): on a confidential
        # case that is its managers (and a coordinator assigned to the case),
        # never the other coordinators; the org admins when none of them may.
        seen_by_leads = recipients_who_may_see(
            (f, leads.get(f.organisation_id, [])) for f in batch
        )
        seen_by_admins = recipients_who_may_see(
            (f, fallback.get(f.organisation_id, [])) for f in batch
        )
        told = {
            f.pk: lead or admin
            for f, lead, admin in zip(batch, seen_by_leads, seen_by_admins, strict=True)
        }
        items = [
            (
                f"followup:{f.pk}:escalate:{f.due_on.isoformat()}",
                told[f.pk],
                _(
                    "%(assignee)s さんのフォローアップが期日（%(due)s）を過ぎても"
                    "完了していません: %(case)s %(note)s"
                )
                % {
                    "assignee": person_name(f.assignee),
                    "due": f"{f.due_on.year}/{f.due_on.month}/{f.due_on.day}",
                    "case": f.case.title,
                    "note": f.note,
                },
                f,
            )
            for f in batch
        ]
        _record(items, kind="follow_up.escalation", now=now)
        result.counts["follow_up.escalation"] += len(batch)

    _claim_batches(
        due.select_related("case", "assignee"),
        batch_size=batch_size,
        process=process,
        label="follow_up.escalation",
    )


# Who in the receiving organisation hears that it has not answered.
REFERRAL_ESCALATE_RECEIVER_ROLES = (Role.COORDINATOR, Role.MANAGER)


def _region_coordinators(referral: Referral) -> list:
    """Return the coordinators of the hubs of the receiver's region.

    National hubs are left out: they cover every prefecture and would get
    every escalation of the country. Whether each may see the referral's
    case is checked by the caller (recipients_who_may_see).
    """
    prefecture = referral.to_organisation.prefecture
    hubs = hub_organisations_for_prefecture(
        prefecture.code if prefecture else None
    ).exclude(kind__in=NATIONAL_HUB_KINDS)
    users = members(hubs.values_list("pk", flat=True), [Role.COORDINATOR])
    return [u for group in users.values() for u in group]


def referral_reminders(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Remind receivers of referrals unanswered for 2 business days."""
    cutoff = _sent_before(day, int(rules["REFERRAL_REMIND_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(
        scope, status=ReferralStatus.SENT, reminded_at__isnull=True, sent_at__lt=cutoff
    )

    def process(batch: list[Referral]) -> None:
        updated = due.filter(pk__in=[r.pk for r in batch]).update(
            reminded_at=now, updated_at=now
        )
        if updated != len(batch):
            raise _Contended
        # One recipients query per receiving organisation, not per referral.
        receivers: dict[int, list] = {}
        for r in batch:
            if r.to_organisation_id not in receivers:
                receivers[r.to_organisation_id] = referral_receivers_to_notify(
                    r.to_organisation
                )
        items = [
            (
                f"referral:{r.pk}:remind",
                receivers[r.to_organisation_id],
                _("%(sender)s からの紹介に回答してください: %(company)s")
                % {"sender": r.from_organisation.name, "company": r.case.company.name},
                r,
            )
            for r in batch
        ]
        _record(items, kind="referral.reminder", now=now)
        result.counts["referral.reminder"] += len(batch)

    _claim_batches(
        due.select_related("from_organisation", "to_organisation", "case__company"),
        batch_size=batch_size,
        process=process,
        label="referral.reminder",
    )


def referral_escalations(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Escalate a referral unanswered after 3 business days.

    Told: the receiving organisation's own coordinators and managers (its
    org admins when it has none), and the coordinators of the receiver's
    regional hubs only when the hub may see the case (DESIGN.md "Who sees
    what" rules 3–5: the company's network-wide consent, never a
    confidential case). Every recipient is checked with the visibility
    selectors (recipients_who_may_see), one query per hub membership and
    batch, not per referral.
    """
    cutoff = _sent_before(day, int(rules["REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(
        scope,
        status=ReferralStatus.SENT,
        escalated_at__isnull=True,
        sent_at__lt=cutoff,
    )

    def process(batch: list[Referral]) -> None:
        updated = due.filter(pk__in=[r.pk for r in batch]).update(
            escalated_at=now, updated_at=now
        )
        if updated != len(batch):
            raise _Contended
        # One hub lookup per receiving organisation, not per referral.
        coordinators: dict[int, list] = {}
        for r in batch:
            if r.to_organisation_id not in coordinators:
                coordinators[r.to_organisation_id] = _region_coordinators(r)
        receiving = {r.to_organisation_id for r in batch}
        own = members(receiving, REFERRAL_ESCALATE_RECEIVER_ROLES)
        admins = members(receiving, [Role.ORG_ADMIN])
        candidates = [
            (
                r,
                (own.get(r.to_organisation_id) or admins.get(r.to_organisation_id, []))
                + coordinators[r.to_organisation_id],
            )
            for r in batch
        ]
        told = dict(
            zip(
                [r.pk for r in batch],
                recipients_who_may_see(candidates),
                strict=True,
            )
        )
        items = [
            (
                f"referral:{r.pk}:escalate",
                told[r.pk],
                # No company name: a region coordinator may not see the case
                # (no network-wide consent); the referral number is enough
                # to chase the receiver.
                _(
                    "%(receiver)s が %(sender)s からの紹介（No.%(number)s）に"
                    "回答していません（%(sent)s 送付）"
                )
                % {
                    "receiver": r.to_organisation.name,
                    "sender": r.from_organisation.name,
                    "number": r.pk,
                    "sent": f"{local_date(r.sent_at).month}月{local_date(r.sent_at).day}日",
                },
                r,
            )
            for r in batch
        ]
        _record(items, kind="referral.escalation", now=now)
        result.counts["referral.escalation"] += len(batch)

    _claim_batches(
        due.select_related("from_organisation", "to_organisation__prefecture", "case"),
        batch_size=batch_size,
        process=process,
        label="referral.escalation",
    )


def referral_expiries(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Expire referrals unanswered for 10 business days (the sender is told)."""
    cutoff = _sent_before(day, int(rules["REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(scope, status=ReferralStatus.SENT, sent_at__lt=cutoff)

    def process(batch: list[Referral]) -> None:
        for r in batch:
            try:
                with transaction.atomic():
                    referral_expire(referral=r, now=now)
            except Conflict:
                continue  # answered meanwhile: nothing to expire
            logger.info("referral.expired referral:%s", r.pk)
            result.counts["referral.expiry"] += 1

    _claim_batches(due, batch_size=batch_size, process=process, label="referral.expiry")


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
