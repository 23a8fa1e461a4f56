"""Reads of one case for its page: the timeline of everything recorded on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from crm.models import Case
from crm.selectors.visibility import consultations_visible_to
from support_network.actors import Actor
from support_network.calendar import local_date


@dataclass(frozen=True)
class TimelineEntry:
    """One event of a case's timeline, whatever its kind."""

    kind: str  # consultation | referral | follow_up | outcome
    on: date
    at: datetime | None
    obj: object


def case_timeline(actor: Actor, case: Case) -> list[TimelineEntry]:
    """Return the visible events of a case, newest first.

    Consultations obey the confidential rule on their own (a confidential
    consultation in an ordinary case stays hidden from other staff).
    """
    consultations = (
        consultations_visible_to(actor)
        .filter(case=case)
        .select_related("author", "organisation")
        .prefetch_related("topics", "ip_types", "attendees")
    )
    entries = [
        TimelineEntry("consultation", c.occurred_on, c.occurred_at, c)
        for c in consultations
    ]
    referrals = case.referrals.select_related("from_organisation", "to_organisation")
    entries += [
        TimelineEntry("referral", local_date(r.sent_at), r.sent_at, r)
        for r in referrals
    ]
    entries += [
        TimelineEntry("follow_up", f.due_on, None, f)
        for f in case.follow_ups.select_related("assignee", "done_by", "consultation")
    ]
    entries += [
        TimelineEntry("outcome", o.occurred_on, None, o) for o in case.outcomes.all()
    ]
    order = {"outcome": 0, "referral": 1, "consultation": 2, "follow_up": 3}
    entries.sort(
        key=lambda e: (e.on, e.at or datetime.min.replace(tzinfo=UTC), -order[e.kind]),
        reverse=True,
    )
    return entries
