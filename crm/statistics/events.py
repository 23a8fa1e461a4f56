"""Event statistics per fiscal year (API `statistics/events`): the seminar funnel.

An event is in reach when its host or one of its co-hosts is. A co-hosted
event counts once in the totals (once for the network) and, grouped by
organisation, once in each host's row; a host's own view (organisation
reach) counts it once (DESIGN.md "Activities beyond consultations").

Measures: `events`; `registrations` (registered companies); `attendees`
(registrations ticked as attended); `companies` (distinct attending
companies); `companies_consulted_after` (of those, the ones with a
consultation at any organisation from the event's start to 90 days after
its date); `companies_filed_after` (of those, the ones with a filing
outcome recorded after that consultation, within the same window).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext as _

from crm.choices import EventKind, OutcomeKind
from crm.models import Consultation, Event, EventAttendee, Outcome
from crm.statistics.dimensions import parse_group_by
from crm.statistics.query import statistics_response
from crm.statistics.reach import Reach, statistics_reach
from support_network.actors import Actor
from support_network.models import Organisation, Prefecture

EVENT_DIMENSIONS = ("organisation", "kind", "month", "prefecture")
# "Consulted after": within this many days after the event's date.
FUNNEL_DAYS = 90
MEASURES = (
    "events",
    "registrations",
    "attendees",
    "companies",
    "companies_consulted_after",
    "companies_filed_after",
)


def _in_reach(reach: Reach, org: Organisation) -> bool:
    if reach.level == "nation":
        return True
    if org.pk == reach.organisation_id:
        return True
    return reach.level == "region" and org.prefecture_id in reach.prefecture_codes


def _attendance(event_ids: list[int]) -> list[dict[str, Any]]:
    """Return each attended registration with its two funnel flags."""
    window_end = F("event__starts_on") + timedelta(days=FUNNEL_DAYS + 1)
    consulted = Consultation.objects.filter(
        company_id=OuterRef("company_id"),
        occurred_at__gte=OuterRef("event__starts_at"),
        occurred_on__lt=OuterRef("window_end"),
    )
    filed = Outcome.objects.filter(
        company_id=OuterRef("company_id"),
        kind=OutcomeKind.FILING,
        occurred_on__gte=OuterRef("event__starts_on"),
        occurred_on__lt=OuterRef("window_end"),
    )
    return list(
        EventAttendee.objects.filter(event_id__in=event_ids, is_attended=True)
        .annotate(window_end=window_end)
        .annotate(consulted=Exists(consulted))
        .annotate(filed=Exists(filed))
        .values("event_id", "company_id", "consulted", "filed")
    )


def _measure(
    event_ids: Iterable[int],
    registrations: dict[int, int],
    attended: dict[int, list[dict[str, Any]]],
) -> dict[str, int]:
    event_ids = set(event_ids)
    rows = [a for e in event_ids for a in attended.get(e, [])]
    companies = {a["company_id"] for a in rows}
    return {
        "events": len(event_ids),
        "registrations": sum(registrations.get(e, 0) for e in event_ids),
        "attendees": len(rows),
        "companies": len(companies),
        "companies_consulted_after": len(
            {a["company_id"] for a in rows if a["consulted"]}
        ),
        "companies_filed_after": len(
            {a["company_id"] for a in rows if a["consulted"] and a["filed"]}
        ),
    }


def event_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: str | Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Return events, attendees, companies and the funnel for one fiscal year."""
    reach = statistics_reach(actor, scope=scope)
    dims = parse_group_by(group_by, EVENT_DIMENSIONS)
    qs = Event.objects.filter(fiscal_year=fiscal_year)
    if reach.level != "nation":
        cohost = Event.cohosts.through.objects.filter(event_id=OuterRef("pk"))
        qs = qs.filter(
            reach.q("organisation") | Q(Exists(cohost.filter(reach.q("organisation"))))
        )
    events = list(qs.select_related("organisation").prefetch_related("cohosts"))
    ids = [e.pk for e in events]
    registrations: dict[int, int] = defaultdict(int)
    for event_id in EventAttendee.objects.filter(event_id__in=ids).values_list(
        "event_id", flat=True
    ):
        registrations[event_id] += 1
    attended: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _attendance(ids):
        attended[row["event_id"]].append(row)

    def keys(event: Event, dim: str) -> set[Any]:
        if dim == "kind":
            return {event.kind}
        if dim == "month":
            return {event.starts_on.strftime("%Y-%m")}
        hosts = [
            o for o in [event.organisation, *event.cohosts.all()] if _in_reach(reach, o)
        ]
        if dim == "organisation":
            return {o.code for o in hosts}
        return {o.prefecture_id for o in hosts}

    groups: dict[tuple, set[int]] = defaultdict(set)
    for event in events:
        combos: list[tuple] = [()]
        for dim in dims:
            combos = [(*c, k) for c in combos for k in sorted(keys(event, dim))]
        for combo in combos:
            groups[combo].add(event.pk)

    labels = _labels(dims, groups)
    rows = []
    for combo in sorted(groups, key=lambda c: tuple(str(v) for v in c)):
        row: dict[str, Any] = {}
        for dim, value in zip(dims, combo, strict=True):
            row[dim] = value
            row[f"{dim}_label"] = labels[dim].get(value, str(value))
        row.update(_measure(groups[combo], registrations, attended))
        rows.append(row)
    totals = _measure(ids, registrations, attended)
    return statistics_response(fiscal_year, dims, filters or {}, reach, rows, totals)


def _labels(dims: list[str], groups: dict[tuple, set[int]]) -> dict[str, dict]:
    labels: dict[str, dict] = {}
    for i, dim in enumerate(dims):
        values = {c[i] for c in groups}
        if dim == "organisation":
            labels[dim] = dict(
                Organisation.objects.filter(code__in=values).values_list("code", "name")
            )
        elif dim == "prefecture":
            labels[dim] = dict(
                Prefecture.objects.filter(code__in=values).values_list("code", "name")
            )
        elif dim == "kind":
            labels[dim] = {k.value: str(k.label) for k in EventKind}
        else:
            labels[dim] = {
                v: _("%(year)s年%(month)s月") % {"year": v[:4], "month": int(v[5:])}
                for v in values
            }
    return labels
