"""Program statistics per fiscal year: enrolments by status against capacity.

Built on crm.statistics (reach, grouped query, labels) so the definitions
stay in one place. An enrolment belongs to its round's fiscal year. It is in
reach when its applying organisation is, or when the caller's organisation
operates the program (INPIT sees every enrolment of IPAS, iAca, iNat, …).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce

from crm.statistics.dimensions import parse_filters, parse_group_by
from crm.statistics.query import grouped_rows, statistics_response
from crm.statistics.reach import statistics_reach
from programs.choices import EnrolmentStatus
from programs.models import Enrolment, ProgramRound
from support_network.actors import Actor

PROGRAM_DIMENSIONS = (
    "fiscal_year",
    "program",
    "status",
    "scheme",
    "prefecture",
    "region",
    "organisation",
    "organisation_kind",
    "company_prefecture",
    "size_class",
)

_EXPRESSIONS = {
    "fiscal_year": F("round__fiscal_year"),
    "program": F("program__code"),
    "status": F("status"),
    "scheme": F("scheme"),
    "prefecture": F("organisation__prefecture_id"),
    "region": Coalesce(
        F("organisation__prefecture__region_id"), F("organisation__region_id")
    ),
    "organisation": F("organisation__code"),
    "organisation_kind": F("organisation__kind"),
    "company_prefecture": F("company__prefecture_id"),
    "size_class": F("company__size_class"),
}

_STATUSES = [s.value for s in EnrolmentStatus]


def program_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Return enrolments by status, completions, support days and capacity.

    `capacity` (the rounds' total) is given on rows grouped by program alone
    or with fiscal year, and in the totals for the programs in reach.
    """
    reach = statistics_reach(actor, scope=scope)
    dims = parse_group_by(group_by, PROGRAM_DIMENSIONS)
    filters = parse_filters(filters, PROGRAM_DIMENSIONS)
    qs = Enrolment.objects.filter(round__fiscal_year=fiscal_year)
    if reach.level != "nation":
        qs = qs.filter(
            reach.q("organisation") | Q(program__operator_id=reach.organisation_id)
        )
    inputs = {
        "m_status": F("status"),
        "m_days": Coalesce(F("days_used"), 0, output_field=Enrolment.days_used.field),
    }
    measures = [("enrolments", "COUNT(*)")] + [
        (status, f"SUM(CASE WHEN t.m_status = '{status}' THEN 1 ELSE 0 END)")
        for status in _STATUSES
    ]

    def run(dimensions: list[str]) -> list[dict[str, Any]]:
        rows = grouped_rows(
            qs=qs,
            dims=dimensions,
            expressions=_EXPRESSIONS,
            inputs=inputs,
            measures=[*measures, ("support_days", "SUM(t.m_days)")],
            filters=filters,
        )
        for row in rows:
            row["support_days"] = float(row["support_days"] or 0)
        return rows

    rows = run(dims)
    rounds = ProgramRound.objects.filter(fiscal_year=fiscal_year)
    if "program" in filters:
        rounds = rounds.filter(program__code=filters["program"])
    capacity = dict(
        rounds.values("program__code")
        .annotate(total=Sum("capacity"))
        .values_list("program__code", "total")
    )
    if set(dims) <= {"program", "fiscal_year"} and "program" in dims:
        for row in rows:
            row["capacity"] = capacity.get(row["program"])
    totals = run([])[0]
    totals["capacity"] = sum(capacity.values())
    return statistics_response(fiscal_year, dims, filters, reach, rows, totals)
