"""Referral statistics per fiscal year (API `statistics/referrals`).

Referrals belong to the fiscal year of their JST sending date; counts by
status, the acceptance rate and the median answer time in business days
from sending to accept/decline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import (
    F,
)

from crm.choices import (
    ReferralStatus,
)
from crm.models import Referral
from crm.statistics.dimensions import (
    REFERRAL_DIMENSIONS,
    labelled,
    parse_filters,
    parse_group_by,
    referral_expressions,
)
from crm.statistics.query import Grouped, number, statistics_response
from crm.statistics.reach import statistics_reach
from support_network.actors import Actor
from support_network.calendar import (
    fiscal_year_datetime_bounds,
)

_REFERRAL_STATUSES = [s.value for s in ReferralStatus]


def referral_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Return referral counts by status, acceptance rate and median answer days.

    A referral is in reach when its sending or its receiving organisation is.
    `acceptance_rate` = accepted (incl. completed) / answered (accepted,
    completed, declined); `median_answer_business_days` over answered ones.
    """
    reach = statistics_reach(actor, scope=scope)
    dims = parse_group_by(group_by, REFERRAL_DIMENSIONS)
    filters = parse_filters(filters, REFERRAL_DIMENSIONS)
    start, end = fiscal_year_datetime_bounds(fiscal_year)
    qs = Referral.objects.filter(sent_at__gte=start, sent_at__lt=end)
    if reach.level != "nation":
        qs = qs.filter(reach.q("from_organisation") | reach.q("to_organisation"))
    inputs = {
        "m_status": F("status"),
        "m_days": F("answer_business_days"),
    }
    sql_measures = [("referrals", "COUNT(*)")] + [
        (status, f"SUM(CASE WHEN t.m_status = '{status}' THEN 1 ELSE 0 END)")
        for status in _REFERRAL_STATUSES
    ]
    expressions = referral_expressions(fiscal_year)

    def run(dimensions: list[str]) -> list[dict[str, Any]]:
        grouped = Grouped(
            qs=qs,
            dims=dimensions,
            expressions=expressions,
            inputs=inputs,
            measures=sql_measures,
            filters=filters,
        )
        rows = grouped.rows()
        medians = grouped.medians("m_days")
        for row in rows:
            for name, _sql in sql_measures:
                row[name] = number(row[name])
            accepted = row["accepted"] + row["completed"]
            answered = accepted + row["declined"]
            row["acceptance_rate"] = round(accepted / answered, 4) if answered else None
            key = tuple(row[f"d_{d}"] for d in dimensions)
            row["median_answer_business_days"] = medians.get(key)
        return rows

    rows = labelled(dims, run(dims))
    return statistics_response(fiscal_year, dims, filters, reach, rows, run([])[0])
