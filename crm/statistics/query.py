"""The grouped statistics query: inner rows, outer SQL aggregates, one envelope.

`Grouped` turns a queryset, the requested dimensions and the measure
inputs into one GROUP BY statement (COUNT DISTINCT, window-function
medians, UNION ALL of grouped rows and totals) run with the statistics'
PostgreSQL settings. Consultation, referral and program statistics
(programs/statistics.py, through `grouped_rows`) all run through it and
answer with `statistics_response`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    F,
    Q,
    QuerySet,
)

from crm.statistics.dimensions import labelled
from crm.statistics.reach import Reach
from support_network.calendar import (
    fiscal_year_label,
)

# Child-table dimensions: a consultation appears once per value. Grouping by
# them keeps one row per consultation and group (unique constraints on the
# child tables); `program` joins enrolments, which may repeat a program, so
# it needs a DISTINCT first.
_NON_UNIQUE_DIMENSIONS = frozenset({"program"})


@dataclass
class Grouped:
    """A grouped query: inner rows (dims + measure inputs), outer SQL aggregates."""

    qs: QuerySet
    dims: list[str]
    expressions: dict[str, Any]
    inputs: dict[str, Any]
    measures: list[tuple[str, str]]
    filters: dict[str, Any] = field(default_factory=dict)
    # The row's id keeps DISTINCT (for non-unique joins) from merging two
    # rows whose other inputs happen to be equal; queries without such
    # joins leave it out (an index-only scan then covers the query).
    row_id: bool = True
    # Dimension → function turning a stored number back into its code.
    decoders: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    # Disjoint conditions covering every row, each a whole set of groups:
    # the grouped query becomes one UNION ALL branch per condition, which
    # PostgreSQL's Parallel Append spreads over its processes.
    split: tuple[Q, ...] = ()

    def _decoded(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            for dimension, decode in self.decoders.items():
                key = f"d_{dimension}"
                if key in row:
                    row[key] = decode(row[key])
        return rows

    def _inner(self, *, distinct: bool, matches_nothing: bool = False) -> QuerySet:
        used = {d: self.expressions[d] for d in [*self.dims, *self.filters]}
        qs = self.qs
        if matches_nothing:  # same columns, no rows (see _inner_sql)
            qs = qs.model._default_manager.using(qs.db).filter(pk__isnull=True)
        inner = qs.annotate(**{f"d_{d}": e for d, e in used.items()})
        if not matches_nothing:
            for dimension, value in self.filters.items():
                inner = inner.filter(**{f"d_{dimension}": value})
        inputs = {"m_id": F("pk"), **self.inputs} if self.row_id else self.inputs
        inner = inner.annotate(**inputs).values(*[f"d_{d}" for d in self.dims], *inputs)
        inner = inner.order_by()
        return inner.distinct() if distinct else inner

    def _inner_sql(self, *, distinct: bool, not_null: str | None = None):
        """Return (sql, params, db) of the inner rows.

        A filter no row can match (a number outside its column's range, an
        unknown code stored as a number) makes Django refuse to compile the
        query (EmptyResultSet); the inner rows are then an empty set of the
        same shape, so the caller gets empty rows and zero totals.
        """

        def compiled(matches_nothing: bool) -> tuple[str, tuple, str]:
            inner = self._inner(distinct=distinct, matches_nothing=matches_nothing)
            if not_null:
                inner = inner.filter(**{f"{not_null}__isnull": False})
            sql, params = inner.query.get_compiler(using=inner.db).as_sql()
            return sql, params, inner.db

        try:
            return compiled(matches_nothing=False)
        except EmptyResultSet:
            return compiled(matches_nothing=True)

    def sql(
        self, *, as_dims: Sequence[str] | None = None, marker: int | None = None
    ) -> tuple[str, list, str]:
        """Return (query, params, db) of the grouped aggregate.

        `as_dims` names the dimension columns to output (NULL for those this
        query does not group by), so a totals query can follow a grouped one
        in a UNION ALL.
        """
        if self.split:
            parts = [
                replace(self, qs=self.qs.filter(condition), split=()).sql(
                    as_dims=as_dims, marker=marker
                )
                for condition in self.split
            ]
            query = " UNION ALL ".join(part[0] for part in parts)
            return query, [p for part in parts for p in part[1]], parts[0][2]
        distinct = any(d in _NON_UNIQUE_DIMENSIONS for d in [*self.dims, *self.filters])
        sql, params, db = self._inner_sql(distinct=distinct)
        dims_sql = ", ".join(f't."d_{d}"' for d in self.dims)
        outputs = [
            f't."d_{d}"' if d in self.dims else f'NULL AS "d_{d}"'
            for d in (self.dims if as_dims is None else as_dims)
        ]
        leading = [] if marker is None else [f"{marker} AS is_total"]
        selected = ", ".join(
            [*leading, *outputs, *(f"{e} AS {a}" for a, e in self.measures)]
        )
        group = f" GROUP BY {dims_sql}" if dims_sql else ""
        return f"SELECT {selected} FROM ({sql}) t{group}", list(params), db

    def rows(self) -> list[dict[str, Any]]:
        query, params, db = self.sql()
        return self._decoded(_fetch(db, query, params))

    def rows_and_totals(self, totals: Grouped) -> tuple[list[dict], dict]:
        """Return the grouped rows and the totals row, in one statement.

        One UNION ALL lets PostgreSQL run the two aggregates at once in
        parallel workers (Parallel Append); SQLite runs them in turn.
        """
        if not self.dims:
            rows = self.rows()
            return rows, totals.rows()[0]
        grouped, grouped_params, db = self.sql(marker=0)
        total, total_params, _db = totals.sql(as_dims=self.dims, marker=1)
        rows = _fetch(
            db, f"{grouped} UNION ALL {total}", [*grouped_params, *total_params]
        )
        rows = self._decoded(rows)
        totals_row = next(r for r in rows if r["is_total"])
        for row in rows:
            row.pop("is_total")
        for d in self.dims:
            totals_row.pop(f"d_{d}")
        return [r for r in rows if r is not totals_row], totals_row

    def medians(self, value: str) -> dict[tuple, float]:
        """Return the median of an input per group (window functions, portable)."""
        sql, params, db = self._inner_sql(distinct=True, not_null=value)
        cols = ", ".join(f'"d_{d}"' for d in self.dims)
        lead = f"{cols}, " if cols else ""
        partition = f"PARTITION BY {cols}" if cols else ""
        window = (
            f"SELECT {lead}{value} AS v, "
            f"ROW_NUMBER() OVER ({partition} ORDER BY {value}) AS rn, "
            f"COUNT(*) OVER ({partition}) AS cnt FROM ({sql}) t"
        )
        query = (
            f"SELECT {lead}AVG(v) FROM ({window}) s "
            "WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2)"
            + (f" GROUP BY {cols}" if cols else "")
        )
        with connections[db].cursor() as cursor:
            cursor.execute(query, params)
            return {
                tuple(row[:-1]): float(row[-1])
                for row in cursor.fetchall()
                if row[-1] is not None
            }


# PostgreSQL settings for the statistics statements only (SET LOCAL): a
# year's distinct companies sort in memory instead of spilling to disk, and
# the planner prices index pages as the cached pages they are, so the totals
# read the covering index instead of the whole partition (bench.statistics).
_POSTGRES_STATEMENT_SETTINGS = {"work_mem": "32MB", "random_page_cost": "1.1"}


def _fetch(db: str, query: str, params: list) -> list[dict[str, Any]]:
    connection = connections[db]
    with transaction.atomic(using=db), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT "
                + ", ".join(
                    "set_config(%s, %s, true)" for _ in _POSTGRES_STATEMENT_SETTINGS
                ),
                [v for item in _POSTGRES_STATEMENT_SETTINGS.items() for v in item],
            )
        cursor.execute(query, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def number(value: Any) -> int:
    return int(value or 0)


def statistics_response(
    fiscal_year: int,
    dims: list[str],
    filters: dict[str, Any],
    reach: Reach,
    rows: list[dict[str, Any]],
    totals: dict[str, Any],
) -> dict[str, Any]:
    """Return the envelope every statistics endpoint answers with (API.md)."""
    return {
        "fiscal_year": fiscal_year,
        "fiscal_year_label": fiscal_year_label(fiscal_year),
        "group_by": dims,
        "filters": filters,
        "scope": reach.as_dict(),
        "rows": rows,
        "totals": totals,
    }


def grouped_rows(
    *,
    qs: QuerySet,
    dims: list[str],
    expressions: dict[str, Any],
    inputs: dict[str, Any],
    measures: list[tuple[str, str]],
    filters: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run a grouped aggregate and return labelled, sorted rows (and no totals)."""
    grouped = Grouped(
        qs=qs,
        dims=dims,
        expressions=expressions,
        inputs=inputs,
        measures=measures,
        filters=filters or {},
    )
    rows = grouped.rows()
    for row in rows:
        for name, _sql in measures:
            row[name] = number(row[name])
    return labelled(dims, rows)
