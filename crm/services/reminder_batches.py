"""What every reminder source shares: its rules, its day, its batches, its result.

crm's sources (crm/services/reminder_follow_ups.py, reminder_referrals.py)
and those other apps register (programs/reminders.py) find what is due in
the same way (crm/services/reminders.py explains the three locks):

- `reminder_rule_groups` splits the rows by the rules of their organisation
  (support_network/reminder_rules.py owns the defaults and the merge), so an
  override costs one more query per source, not one per row;
- `office_day` says whether `now` is in office hours, and on which JST day;
- `claim_batches` hands each batch of due rows to one sweeper (SKIP LOCKED)
  and runs it in one transaction; a batch that loses a row to a concurrent
  sweeper raises `Contended` and is rolled back and retried;
- `reminders_record` writes the batch's notifications with their dedupe keys;
- `SweepResult` counts what was done, per kind.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q

from crm.services.notifications import NotificationItem, notify_many
from support_network.calendar import JST, is_business_day
from support_network.models import Organisation
from support_network.reminder_rules import reminder_overrides_valid, reminder_rules
from support_network.selectors import active_members

# The logger keeps the name it had before the sweep was split into modules.
logger = logging.getLogger("crm.services.reminders")

# Rows claimed per transaction: bounded time and memory (STYLE.md §6).
BATCH_SIZE = 500


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
    own = {pk: reminder_overrides_valid(pk, raw) for pk, raw in stored.items()}
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


class Contended(Exception):
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


def sent_before(day: date, business_days: int) -> datetime:
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
        active_members(set(organisation_ids), roles)
        .select_related("user")
        .order_by("user_id")
    ):
        found.setdefault(m.organisation_id, []).append(m.user)
    return found


def reminders_record(
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


def claim_batches(
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
        except Contended:
            logger.info("%s: batch contended, retrying", label)
            continue
        if len(batch) == batch_size:
            after = batch[-1].pk
        elif after is None or rescanned:
            return
        else:
            after, rescanned = None, True
