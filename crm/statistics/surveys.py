"""Survey statistics per fiscal year (API `statistics/surveys`, the KPI 支援満足度).

A survey belongs to the fiscal year of the day it was due; it is in reach
when the surveyed organisation is. Measures: `sent` (sent, answered or
not), `responses`, `response_rate` = responses / sent, `score_mean` (mean
of 1–5), `satisfied_share` = share of responses scoring 4 or 5. Grouped by
`from_organisation`, only referral surveys count (the sender → receiver
pair); comments are never part of statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Avg, Count, Q
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from crm.models import Survey
from crm.statistics.dimensions import parse_group_by
from crm.statistics.query import statistics_response
from crm.statistics.reach import statistics_reach
from support_network.actors import Actor

SURVEY_DIMENSIONS = ("organisation", "from_organisation", "month")
_SENT = Q(status__in=[Survey.Status.SENT, Survey.Status.ANSWERED])
_ANSWERED = Q(status=Survey.Status.ANSWERED)


def _measures(row: dict[str, Any]) -> dict[str, Any]:
    sent, responses = row["sent"], row["responses"]
    return {
        "sent": sent,
        "responses": responses,
        "response_rate": round(responses / sent, 4) if sent else None,
        "score_mean": round(row["score_mean"], 2)
        if row["score_mean"] is not None
        else None,
        "satisfied_share": round(row["satisfied"] / responses, 4)
        if responses
        else None,
    }


def survey_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: str | Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Return sent, responses, response rate, mean score and share satisfied."""
    reach = statistics_reach(actor, scope=scope)
    dims = parse_group_by(group_by, SURVEY_DIMENSIONS)
    qs = Survey.objects.filter(_SENT, fiscal_year=fiscal_year)
    if reach.level != "nation":
        qs = qs.filter(reach.q("organisation"))
    if "from_organisation" in dims:
        qs = qs.filter(source=Survey.Source.REFERRAL)
    aggregates = {
        "sent": Count("pk"),
        "responses": Count("pk", filter=_ANSWERED),
        "score_mean": Avg("score", filter=_ANSWERED),
        "satisfied": Count("pk", filter=_ANSWERED & Q(score__gte=4)),
    }
    fields = {
        "organisation": ("organisation__code", "organisation__name"),
        "from_organisation": ("from_organisation__code", "from_organisation__name"),
    }
    rows = []
    if dims:
        grouped = qs
        values = []
        if "month" in dims:
            grouped = grouped.annotate(m=TruncMonth("due_on"))
        for dim in dims:
            values += list(fields[dim]) if dim in fields else ["m"]
        for raw in grouped.values(*values).annotate(**aggregates).order_by(*values):
            row: dict[str, Any] = {}
            for dim in dims:
                if dim == "month":
                    month = raw["m"]
                    row["month"] = month.strftime("%Y-%m")
                    row["month_label"] = _("%(year)s年%(month)s月") % {
                        "year": month.year,
                        "month": month.month,
                    }
                else:
                    code, name = fields[dim]
                    row[dim] = raw[code]
                    row[f"{dim}_label"] = raw[name]
            row.update(_measures(raw))
            rows.append(row)
    totals = _measures(qs.aggregate(**aggregates))
    return statistics_response(fiscal_year, dims, filters or {}, reach, rows, totals)
