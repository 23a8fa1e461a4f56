"""Small-cell suppression of consultation statistics (issue 26).

A confidential consultation (or one on a confidential case) counts in the
aggregates, but a cell so small that it could single out one the caller may
not open is folded into 「その他」; kept apart from the query so the rule is
read in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import (
    Q,
)

from crm.models import Consultation
from crm.statistics.dimensions import consultation_expressions, startup_expression
from crm.statistics.query import Grouped, number
from crm.statistics.reach import Reach
from support_network.actors import Actor

# Cells with fewer consultations than this that hold a confidential
# consultation the caller may not see are folded into 「その他」 (issue 26).
MIN_CELL_CONSULTATIONS = 3


def _cell_key(row: dict[str, Any], dims: Sequence[str]) -> tuple:
    return tuple("" if row[f"d_{d}"] is None else str(row[f"d_{d}"]) for d in dims)


def hidden_confidential(
    actor: Actor,
    reach: Reach,
    fy: int,
    dims: list[str],
    filters: dict[str, Any],
) -> dict[tuple, int]:
    """Return, per cell and for the totals (key None), the confidential
    consultations counted there that the caller may not open.

    A confidential consultation (or one on a confidential case) is shown in
    aggregates, but a small cell must not single it out (issue 26 item 5).
    Confidential consultations are few: one grouped query over them only.
    """
    from crm.selectors.visibility import consultations_visible_to

    qs = (
        Consultation.objects.filter(reach.q("organisation"), fiscal_year=fy)
        .filter(Q(is_confidential=True) | Q(case__is_confidential=True))
        .exclude(pk__in=consultations_visible_to(actor).values("pk"))
    )
    expressions = consultation_expressions()
    if "is_startup" in {*dims, *filters}:
        expressions["is_startup"] = startup_expression("company__", "occurred_on")
    common = {
        "qs": qs,
        "expressions": expressions,
        "inputs": {},
        "measures": [("hidden", "COUNT(*)")],
        "filters": filters,
        "decoders": {"is_startup": lambda v: None if v is None else bool(v)},
    }
    total = number(Grouped(dims=[], **common).rows()[0]["hidden"])
    if not total:
        return {}
    counts: dict[tuple | None, int] = {None: total}
    if dims:
        for row in Grouped(dims=dims, **common).rows():
            counts[_cell_key(row, dims)] = number(row["hidden"])
    return counts


def suppress_small_cells(
    dims: list[str],
    names: list[str],
    rows: list[dict[str, Any]],
    total: dict[str, Any],
    hidden: dict,
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Fold cells that could single out a hidden confidential consultation.

    A cell with fewer than MIN_CELL_CONSULTATIONS consultations holding one
    the caller may not open goes into one 「その他」 row; while that row is
    still small, the smallest other cells join it (so no difference of the
    totals and the shown cells gives the folded one away); a 「その他」 row or
    totals that stay small show no figures (None). Returns the rows, the
    totals and how many cells were folded.
    """
    if not hidden:
        return rows, total, 0
    small = MIN_CELL_CONSULTATIONS
    if total["consultations"] < small:
        total = {**total, **dict.fromkeys(names)}
    if not dims:
        return rows, total, 0
    keep, fold = [], []
    for row in rows:
        risky = hidden.get(_cell_key(row, dims), 0) > 0
        (fold if risky and row["consultations"] < small else keep).append(row)
    if not fold:
        return rows, total, 0
    keep.sort(key=lambda r: r["consultations"])
    while keep and sum(r["consultations"] for r in fold) < small:
        fold.append(keep.pop(0))
    other: dict[str, Any] = {f"d_{d}": None for d in dims}
    for name in names:
        other[name] = sum(r[name] for r in fold)
    if other["consultations"] < small:
        other.update(dict.fromkeys(names))
    other["_other"] = True
    return [*keep, other], total, len(fold)
