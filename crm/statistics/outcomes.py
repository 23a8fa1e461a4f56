"""Outcome KPIs per fiscal year (API `statistics/outcomes`, the managers' page).

Filings, licences (ライセンス契約) and funds raised (sum of 資金調達 amounts)
of the fiscal year recorded by organisations in reach on cases that had a
consultation on or before the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Q,
)

from crm.models import Consultation
from crm.statistics.dimensions import parse_filters, parse_group_by
from crm.statistics.query import number, statistics_response
from crm.statistics.reach import statistics_reach
from support_network.actors import Actor


def filings_after_consultation(
    *, actor: Actor, fiscal_year: int, scope: str | None = None
) -> int:
    """Count the filings of a fiscal year that followed a consultation.

    An Outcome of kind "filing" counts when its date (`occurred_on`) falls in
    the fiscal year, its recording organisation is in the caller's reach, and
    its case had a consultation on or before that date (any organisation's:
    the filing followed support). One COUNT with an EXISTS subquery.
    """
    from crm.choices import OutcomeKind
    from crm.models import Outcome
    from support_network.calendar import fiscal_year_bounds

    reach = statistics_reach(actor, scope=scope)
    first, last = fiscal_year_bounds(fiscal_year)
    preceded = Exists(
        Consultation.objects.filter(
            case_id=OuterRef("case_id"), occurred_on__lte=OuterRef("occurred_on")
        )
    )
    return (
        Outcome.objects.filter(
            reach.q("organisation"),
            kind=OutcomeKind.FILING,
            occurred_on__gte=first,
            occurred_on__lte=last,
        )
        .filter(preceded)
        .count()
    )


def outcome_kpis(
    *, actor: Actor, fiscal_year: int, scope: str | None = None
) -> dict[str, int]:
    """Return the outcome KPIs of a fiscal year in the caller's reach.

    Outcomes dated in the fiscal year, recorded by an organisation in reach,
    on a case that had a consultation on or before the outcome's date (as
    filings_after_consultation): `filings_after_consultation` (count of
    filings), `licences` (count of ライセンス契約) and `funds_raised_yen` (sum of
    the amounts of 資金調達・融資 outcomes; outcomes without an amount add 0),
    with `financings` (their count). One aggregate query.
    """
    from django.db.models import Count, Sum

    from crm.choices import OutcomeKind
    from crm.models import Outcome
    from support_network.calendar import fiscal_year_bounds

    reach = statistics_reach(actor, scope=scope)
    first, last = fiscal_year_bounds(fiscal_year)
    preceded = Exists(
        Consultation.objects.filter(
            case_id=OuterRef("case_id"), occurred_on__lte=OuterRef("occurred_on")
        )
    )
    figures = (
        Outcome.objects.filter(
            reach.q("organisation"),
            occurred_on__gte=first,
            occurred_on__lte=last,
            kind__in=[OutcomeKind.FILING, OutcomeKind.LICENCE, OutcomeKind.FINANCING],
        )
        .filter(preceded)
        .aggregate(
            filings_after_consultation=Count("pk", filter=Q(kind=OutcomeKind.FILING)),
            licences=Count("pk", filter=Q(kind=OutcomeKind.LICENCE)),
            financings=Count("pk", filter=Q(kind=OutcomeKind.FINANCING)),
            funds_raised_yen=Sum("amount_yen", filter=Q(kind=OutcomeKind.FINANCING)),
        )
    )
    return {name: number(value) for name, value in figures.items()}


def outcome_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Return the outcome KPIs in the statistics envelope (totals only, no rows)."""
    reach = statistics_reach(actor, scope=scope)
    parse_group_by(group_by, ())
    parse_filters(filters, ())
    totals = outcome_kpis(actor=actor, fiscal_year=fiscal_year, scope=scope)
    return statistics_response(fiscal_year, [], {}, reach, [], totals)
