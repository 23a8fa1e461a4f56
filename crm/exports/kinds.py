"""Export kinds: the registry and what a provider builds its table with.

Kinds are providers in a registry: crm registers `consultations`,
`referrals` and `consultation_statistics` (crm/exports/<kind>.py) from
CrmConfig.ready(); programs registers `enrolments` from programs/apps.py
through crm/extensions.py (crm never imports programs). A provider takes the
reconstructed Actor, the fiscal year and the params and returns an
`ExportTable`: the columns and an iterator of row tuples, read from the
database in chunks in keyset order, so memory stays constant. The helpers
below are shared by the providers of every app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Aggregate, OuterRef, QuerySet, Subquery, TextField

from crm.exports.writers import Column
from crm.models import (
    Export,
)
from support_network.calendar import (
    fiscal_year_bounds,
    fiscal_year_label,
    local_date,
)

# Rows fetched per round trip, and how often the progress is written.
CHUNK_SIZE = 5000


@dataclass(frozen=True)
class ExportTable:
    """What a provider returns: columns, rows (an iterator) and their count."""

    columns: Sequence[Column]
    rows: Iterable[Sequence]
    total: int | None = None
    sheet_title: str = "データ"
    # Without a total: the fraction (0–1) of the export a row stands at.
    position: Callable[[Sequence], float] | None = None


Provider = Callable[..., ExportTable]
Checker = Callable[..., dict]
# builder(export=, actor=, path=, progress=) writes the whole file itself
# (e.g. the disclosure package's ZIP) and returns a WriteResult.
Builder = Callable[..., object]
TABLE_FORMATS = ("xlsx", "csv")


@dataclass(frozen=True)
class ExportKind:
    """A registered kind: how to build its table and how to check a request."""

    name: str
    label: str
    provider: Provider
    # check(actor=, fiscal_year=, params=) -> cleaned params; raises DomainError.
    check: Checker | None = None
    row_level: bool = True
    formats: tuple[str, ...] = TABLE_FORMATS
    builder: Builder | None = None


_KINDS: dict[str, ExportKind] = {}


def export_kind_register(
    name: str,
    provider: Provider | None,
    *,
    label: str | None = None,
    check: Checker | None = None,
    row_level: bool = True,
    formats: tuple[str, ...] = TABLE_FORMATS,
    builder: Builder | None = None,
) -> None:
    """Register (or replace) the provider of an export kind.

    provider(actor=, fiscal_year=, params=) returns an ExportTable. Other apps
    register theirs from their AppConfig.ready() (crm never imports them).
    A kind whose file is not one table (a ZIP) gives a `builder` instead and
    the formats it writes.
    """
    if name not in Export.Kind.values:
        raise ValueError(f"unknown export kind {name!r} (see Export.Kind)")
    _KINDS[name] = ExportKind(
        name=name,
        label=label or str(Export.Kind(name).label),
        provider=provider,
        check=check,
        row_level=row_level,
        formats=formats,
        builder=builder,
    )


def export_kinds() -> dict[str, ExportKind]:
    """Return the registered kinds by name."""
    return dict(_KINDS)


# --- helpers for providers ---------------------------------------------------------------


def person_name(last: str | None, first: str | None, username: str | None) -> str:
    """Return 姓 名, or the user name when both are empty."""
    name = f"{last or ''} {first or ''}".strip()
    return name or (username or "")


def fiscal_year_position(fiscal_year: int, index: int) -> Callable[[Sequence], float]:
    """Return row → how far into the fiscal year the date at row[index] is (0–1).

    The progress of exports read in date order, without counting the rows.
    """
    start, end = fiscal_year_bounds(fiscal_year)
    days = (end - start).days + 1

    def position(row: Sequence) -> float:
        value = row[index]
        if value is None:
            return 0.0
        return (local_date(value) - start).days / days

    return position


class FiscalYearLabels(dict):
    """fiscal year → "2025年度（令和7年度）", computed once per year."""

    def __missing__(self, year):
        label = fiscal_year_label(year) if year else ""
        self[year] = label
        return label


def labels_by_value(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


class JoinedCodes(Aggregate):
    """The codes of a group joined with commas: string_agg / group_concat.

    Their order is left to the database (no per-row sort); `ChoiceLabels`
    puts them in the order of their choices.
    """

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, function="GROUP_CONCAT", **extra_context
        )


def with_codes(qs: QuerySet, children: Sequence[tuple]) -> tuple[QuerySet, list[str]]:
    """Annotate qs with the comma-joined codes of child tables, one per row.

    children are (model, foreign key to the row, code field); each becomes a
    correlated subquery, so the rows stream from one query with no extra
    round trip (measured in bench/export.py against per-chunk look-ups).
    """
    names = []
    for n, (model, fk, value) in enumerate(children):
        name = f"export_codes_{n}"
        codes = (
            model.objects.filter(**{fk: OuterRef("pk")})
            .order_by()
            .values(fk)
            .annotate(joined=JoinedCodes(value))
            .values("joined")
        )
        qs = qs.annotate(**{name: Subquery(codes)})
        names.append(name)
    return qs, names


class ChoiceLabels:
    """Comma-joined codes → their labels joined with 、, in choices order."""

    def __init__(self, choices) -> None:
        self.labels = {value: str(label) for value, label in choices.choices}
        self.rank = {value: n for n, value in enumerate(self.labels)}
        self.cache: dict[str, str] = {}

    def __call__(self, joined: str | None) -> str:
        if not joined:
            return ""
        text = self.cache.get(joined)
        if text is None:
            codes = sorted(joined.split(","), key=lambda c: self.rank.get(c, 999))
            text = "、".join([self.labels.get(c, c) for c in codes])
            if len(self.cache) < 10_000:
                self.cache[joined] = text
        return text
