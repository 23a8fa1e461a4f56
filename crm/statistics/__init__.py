"""Statistics per fiscal year: aggregate selectors (DESIGN.md "Statistics and exports").

One service computes every measure over every dimension, in the database
(GROUP BY, COUNT DISTINCT, window functions), scoped by the caller's reach;
the API, the managers' page and the exports all call it.

Definitions (also in the README):
- A consultation belongs to the fiscal year of its JST date (April–March).
- `prefecture` / `region` / `organisation` are those of the organisation
  that handled the consultation (for referrals: the sending organisation;
  `to_*` dimensions give the receiving one). `company_prefecture` is the
  company's.
- A consultation counts once in each of its topics and IP types; totals
  count it once.
- `new_companies`: companies whose first consultation anywhere in the
  network (earliest, whatever organisation; `Consultation.is_company_first`)
  is one of the counted consultations.
- `yorozu_links` (JPO regional KPI よろず連携件数): consultations of an INPIT
  窓口 or a よろず拠点 with the other kind attending (相互同席), or on a case
  referred between the two kinds (any status but cancelled).
- Referrals belong to the fiscal year of their JST sending date; the median
  answer time is in business days from sending to accept/decline.
- A consultation's `program` is each program its case is enrolled in (once
  per program, even with several enrolments in it).
- `is_startup`: the company was a startup in the JPO sense (crm.rules.
  is_startup) on the consultation's date, from its recorded kind, founding
  date, employees, capital, industry and large-company control.
- `first_filers` (知的財産推進計画2025: SMEs filing for the first time): the
  distinct 中小企業者 (size micro or sme) among the counted consultations'
  companies whose first filing outcome anywhere in the network (earliest
  Outcome of kind filing) is on or after one of those consultations. A
  year's figure grows as later first filings are recorded.
- Outcome KPIs (`outcome_kpis`): filings, licences (ライセンス契約) and funds
  raised (sum of 資金調達 amounts) of the fiscal year recorded by organisations
  in reach on cases that had a consultation on or before the outcome.

Reach (rule 6, aggregates only, no personal data): superusers and the
national bodies (JPO, INPIT, 中小企業庁) see the nation; 経済産業局 and
弁理士会 地域会 see the organisations of the prefectures they cover, and
their own; any other organisation sees itself. Managers, org admins and
coordinators get their organisation's reach; window staff their own
organisation; experts no statistics.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import (
    Coalesce,
    ExtractDay,
    ExtractMonth,
    ExtractYear,
    Substr,
)
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.utils.translation import gettext as _

from crm.choices import (
    TOPIC_NUMBERS,
    Channel,
    IpType,
    ReferralStatus,
    SizeClass,
    Topic,
)
from crm.models import Consultation, Referral
from crm.rules.company_size import (
    KIND_CORPORATION,
    KIND_SOLE_PROPRIETOR,
    STARTUP_MAX_AGE_YEARS,
    STARTUP_MAX_CAPITAL_YEN,
    STARTUP_MAX_EMPLOYEES,
    STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE,
)
from crm.rules.industries import GROUP_MANUFACTURING, sme_industry_group
from support_network.actors import Actor
from support_network.calendar import (
    fiscal_year_datetime_bounds,
    fiscal_year_label,
)
from support_network.choices import OrganisationKind, Role
from support_network.errors import PermissionDenied, ValidationFailed
from support_network.models import Organisation, Prefecture, Region
from support_network.selectors import hub_prefecture_codes

JST = ZoneInfo("Asia/Tokyo")

CONSULTATION_DIMENSIONS = (
    "fiscal_year",
    "month",
    "prefecture",
    "company_prefecture",
    "region",
    "organisation",
    "organisation_kind",
    "channel",
    "topic",
    "ip_type",
    "size_class",
    "industry",
    "program",
    "is_startup",
)
REFERRAL_DIMENSIONS = (
    "fiscal_year",
    "month",
    "prefecture",
    "company_prefecture",
    "region",
    "organisation",
    "organisation_kind",
    "to_prefecture",
    "to_organisation",
    "to_organisation_kind",
    "status",
    "topic",
    "size_class",
    "industry",
    "program",
)
CONSULTATION_MEASURES = ("consultations", "companies", "new_companies", "minutes")
OPTIONAL_CONSULTATION_MEASURES = ("yorozu_links", "first_filers")
MAX_GROUP_BY = 4

# Child-table dimensions: a consultation appears once per value. Grouping by
# them keeps one row per consultation and group (unique constraints on the
# child tables); `program` joins enrolments, which may repeat a program, so
# it needs a DISTINCT first.
_NON_UNIQUE_DIMENSIONS = frozenset({"program"})

STATISTICS_ROLES = (Role.MANAGER, Role.ORG_ADMIN, Role.COORDINATOR)

JSIC_PATH = Path(__file__).resolve().parents[2] / "seeds" / "data" / "jsic.csv"
# First 中分類 of each 大分類 (JSIC 13th revision), as in crm/rules.py.
_MAJOR_STARTS = (
    ("01", "A"), ("03", "B"), ("05", "C"), ("06", "D"), ("09", "E"), ("33", "F"),
    ("37", "G"), ("42", "H"), ("50", "I"), ("62", "J"), ("68", "K"), ("71", "L"),
    ("75", "M"), ("78", "N"), ("81", "O"), ("83", "P"), ("86", "Q"), ("88", "R"),
    ("97", "S"), ("99", "T"),
)  # fmt: skip


# ---------------------------------------------------------------------------
# Reach


@dataclass(frozen=True)
class Reach:
    """Which organisations' work the caller's statistics cover."""

    level: str  # "nation" | "region" | "organisation"
    label: str
    organisation_id: int | None = None
    prefecture_codes: tuple[str, ...] = ()

    def q(self, organisation_path: str) -> Q:
        """Return a Q keeping rows whose organisation (at the path) is in reach."""
        if self.level == "nation":
            return Q()
        own = Q(**{f"{organisation_path}_id": self.organisation_id})
        if self.level == "organisation":
            return own
        return own | Q(
            **{f"{organisation_path}__prefecture_id__in": self.prefecture_codes}
        )

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "label": self.label}


def statistics_reach(actor: Actor, *, scope: str | None = None) -> Reach:
    """Return the actor's statistics reach; `scope="organisation"` narrows it.

    Experts get no statistics (403); window staff their own organisation.
    """
    if scope not in (None, "", "reach", "organisation"):
        raise ValidationFailed(
            _(
                "範囲は organisation（自組織）または reach（担当範囲全体）で指定してください。"
            ),
            field="scope",
        )
    if actor.is_superuser and actor.membership is None:
        return Reach(level="nation", label=_("全国"))
    actor.require_membership()
    if actor.role == Role.EXPERT:
        raise PermissionDenied(
            _("統計を閲覧する権限がありません。"), code="not_permitted"
        )
    organisation = actor.organisation
    own = Reach(
        level="organisation",
        label=organisation.name,
        organisation_id=organisation.pk,
    )
    if scope == "organisation":
        return own
    if not (actor.is_superuser or actor.role in STATISTICS_ROLES):
        return own
    codes = hub_prefecture_codes(organisation)
    if codes is None:
        return Reach(level="nation", label=_("全国"))
    if codes:
        return Reach(
            level="region",
            label=_("%(name)s の担当地域") % {"name": organisation.name},
            organisation_id=organisation.pk,
            prefecture_codes=tuple(sorted(codes)),
        )
    return own


# ---------------------------------------------------------------------------
# Dimensions: expressions and labels


def _industry_division(path: str):
    """Return the JSIC 大分類 letter of the company's industry code (or "").

    Codes start with the letter ("E", "M76") or are digits whose first two
    name the 中分類 ("24", "7611"); string ranges map those to letters.
    """
    whens = [
        When(Q(**{f"{path}__gte": "A", f"{path}__lt": "U"}), then=Substr(path, 1, 1))
    ]
    ends = [*(start for start, _letter in _MAJOR_STARTS[1:]), "9:"]
    for (start, letter), end in zip(_MAJOR_STARTS, ends, strict=True):
        whens.append(
            When(Q(**{f"{path}__gte": start, f"{path}__lt": end}), then=Value(letter))
        )
    return Case(*whens, default=Value(""))


def _month(year, month):
    return year * 100 + month


def _consultation_expressions() -> dict[str, Any]:
    return {
        "fiscal_year": F("fiscal_year"),
        "month": _month(ExtractYear("occurred_on"), ExtractMonth("occurred_on")),
        "prefecture": F("organisation__prefecture_id"),
        "company_prefecture": F("company__prefecture_id"),
        "region": Coalesce(
            F("organisation__prefecture__region_id"), F("organisation__region_id")
        ),
        "organisation": F("organisation__code"),
        "organisation_kind": F("organisation__kind"),
        "channel": F("channel"),
        "topic": F("topics__topic"),
        "ip_type": F("ip_types__ip_type"),
        "size_class": F("company__size_class"),
        "industry": _industry_division("company__industry"),
        "program": F("case__enrolments__program__code"),
    }


def _date_number(path: str):
    """Return a date column as the number YYYYMMDD (portable date arithmetic)."""
    return ExpressionWrapper(
        ExtractYear(path) * 10000 + ExtractMonth(path) * 100 + ExtractDay(path),
        output_field=IntegerField(),
    )


def _manufacturing_industries(companies: QuerySet) -> list[str]:
    """Return the stored industry codes whose SME group is 製造業その他.

    The JPO startup test allows 20 employees there and 5 elsewhere
    (crm.rules.is_startup); the few distinct codes are classified in Python
    by the same rules rather than re-encoding jsic_sme_rules.csv in SQL.
    """
    codes = companies.values_list("industry", flat=True).distinct().order_by()
    return [
        code
        for code in codes
        if code and sme_industry_group(code) == GROUP_MANUFACTURING
    ]


def startup_q(company: str, on: str, *, companies: QuerySet) -> Q:
    """Return a Q: the row's company was a JPO startup on the date at *on*.

    The SQL twin of crm.rules.is_startup: a corporation or sole proprietor
    founded on or before the date and less than 10 years before it (the
    day-number comparison gives 29 February + 10 years = 1 March, as
    _add_years); a sole proprietor is then a startup; a corporation must not
    be controlled by a large company and have at most 20 employees in
    製造業その他 (5 elsewhere or unknown) or capital of at most 3億円.
    """
    founded = _date_number(f"{company}founded_on")
    day = _date_number(on)
    young = (
        Q(
            **{
                f"{company}kind__in": [
                    KIND_CORPORATION,
                    KIND_SOLE_PROPRIETOR,
                ]
            }
        )
        & Q(**{f"{company}founded_on__isnull": False})
        & Q(LessThanOrEqual(founded, day))
        & Q(LessThan(day, founded + STARTUP_MAX_AGE_YEARS * 10000))
    )
    small = Q(
        **{f"{company}employees__lte": STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE}
    ) | Q(**{f"{company}capital_yen__lte": STARTUP_MAX_CAPITAL_YEN})
    small |= Q(**{f"{company}employees__lte": STARTUP_MAX_EMPLOYEES}) & Q(
        **{f"{company}industry__in": _manufacturing_industries(companies)}
    )
    corporation = (
        Q(**{f"{company}kind": KIND_CORPORATION})
        & Q(**{f"{company}controlled_by_large_company": False})
        & small
    )
    return young & (Q(**{f"{company}kind": KIND_SOLE_PROPRIETOR}) | corporation)


def _startup_expression(company: str, on: str) -> Case:
    from crm.models import Company

    return Case(
        When(startup_q(company, on, companies=Company.objects.all()), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _first_filing_on(company: str = "company_id"):
    """Return a subquery: the date of the company's first filing outcome."""
    from crm.choices import OutcomeKind
    from crm.models import Outcome

    return Subquery(
        Outcome.objects.filter(company_id=OuterRef(company), kind=OutcomeKind.FILING)
        .order_by("occurred_on")
        .values("occurred_on")[:1]
    )


def _referral_expressions(fy: int) -> dict[str, Any]:
    return {
        "fiscal_year": Value(fy),
        "month": _month(
            ExtractYear("sent_at", tzinfo=JST), ExtractMonth("sent_at", tzinfo=JST)
        ),
        "prefecture": F("from_organisation__prefecture_id"),
        "company_prefecture": F("case__company__prefecture_id"),
        "region": Coalesce(
            F("from_organisation__prefecture__region_id"),
            F("from_organisation__region_id"),
        ),
        "organisation": F("from_organisation__code"),
        "organisation_kind": F("from_organisation__kind"),
        "to_prefecture": F("to_organisation__prefecture_id"),
        "to_organisation": F("to_organisation__code"),
        "to_organisation_kind": F("to_organisation__kind"),
        "status": F("status"),
        "topic": F("topics__topic"),
        "size_class": F("case__company__size_class"),
        "industry": _industry_division("case__company__industry"),
        "program": F("case__enrolments__program__code"),
    }


@cache
def _jsic_divisions() -> dict[str, str]:
    with JSIC_PATH.open(encoding="utf-8") as f:
        return {
            row["code"]: row["name_ja"]
            for row in csv.DictReader(f)
            if len(row["code"]) == 1
        }


def _labels(dimension: str, codes: Iterable[Any]) -> dict[Any, str]:
    """Return the Japanese label of each code of a dimension (one query at most)."""
    codes = {c for c in codes if c not in (None, "")}
    if dimension == "fiscal_year":
        return {c: fiscal_year_label(int(c)) for c in codes}
    if dimension == "month":
        return {c: f"{int(c) // 100}年{int(c) % 100}月" for c in codes}
    if dimension in ("prefecture", "company_prefecture", "to_prefecture"):
        return dict(
            Prefecture.objects.filter(code__in=codes).values_list("code", "name")
        )
    if dimension == "region":
        return dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    if dimension in ("organisation", "to_organisation"):
        return dict(
            Organisation.objects.filter(code__in=codes).values_list("code", "name")
        )
    if dimension in ("organisation_kind", "to_organisation_kind"):
        return {c: str(OrganisationKind(c).label) for c in codes}
    choices = {
        "channel": Channel,
        "topic": Topic,
        "ip_type": IpType,
        "size_class": SizeClass,
        "status": ReferralStatus,
    }
    if dimension in choices:
        known = dict(choices[dimension].choices)
        return {c: str(known.get(c, c)) for c in codes}
    if dimension == "industry":
        return {c: _jsic_divisions().get(c, c) for c in codes}
    if dimension == "is_startup":
        return {c: _("スタートアップ") if c else _("スタートアップ以外") for c in codes}
    if dimension == "program":
        program = apps.get_model("programs", "Program")
        return dict(program.objects.filter(code__in=codes).values_list("code", "name"))
    return {c: str(c) for c in codes}


_EMPTY_LABELS = {
    "prefecture": "（全国組織）",
    "to_prefecture": "（全国組織）",
    "region": "（全国組織）",
    "program": "（支援事業なし）",
    "ip_type": "（指定なし）",
    "industry": "（不明）",
    "company_prefecture": "（不明）",
}


def _empty_label(dimension: str) -> str:
    return _(_EMPTY_LABELS.get(dimension, "（未設定）"))


# ---------------------------------------------------------------------------
# The grouped query


def parse_group_by(
    value: str | Sequence[str] | None, allowed: Sequence[str]
) -> list[str]:
    """Return the validated dimensions of a comma list (400 on an unknown one)."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    dims = [d.strip() for d in items if d and d.strip()]
    unknown = [d for d in dims if d not in allowed]
    if unknown:
        raise ValidationFailed(
            _("集計軸「%(dims)s」は使えません。使える集計軸: %(allowed)s")
            % {"dims": ", ".join(unknown), "allowed": ", ".join(allowed)},
            field="group_by",
        )
    if len(set(dims)) != len(dims):
        raise ValidationFailed(_("同じ集計軸が重複しています。"), field="group_by")
    if len(dims) > MAX_GROUP_BY:
        raise ValidationFailed(
            _("集計軸は%(max)s個までです。") % {"max": MAX_GROUP_BY}, field="group_by"
        )
    return dims


def _coerce_filter(dimension: str, value: Any) -> Any:
    if dimension == "is_startup":
        text = str(value).strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise ValidationFailed(
                _("is_startup は true か false で指定してください。"),
                field=dimension,
            )
        return text in ("true", "1")
    if dimension in ("month", "fiscal_year"):
        try:
            return int(str(value).replace("-", ""))
        except ValueError:
            raise ValidationFailed(
                _("%(dim)s の値が正しくありません。") % {"dim": dimension},
                field=dimension,
            ) from None
    return str(value)


@dataclass
class _Grouped:
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

    def rows_and_totals(self, totals: _Grouped) -> tuple[list[dict], dict]:
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


def _labelled(dims: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rename d_<dim> columns, add <dim>_label, sort by the dimension codes."""
    labels = {d: _labels(d, (r[f"d_{d}"] for r in rows)) for d in dims}
    out = []
    for row in rows:
        item: dict[str, Any] = {}
        for d in dims:
            raw = row.pop(f"d_{d}")
            code = raw
            if d == "month" and raw is not None:
                code = f"{int(raw) // 100:04d}-{int(raw) % 100:02d}"
            item[d] = None if code == "" else code
            item[f"{d}_label"] = labels[d].get(raw) or _empty_label(d)
        item.update(row)
        out.append(item)
    out.sort(key=lambda r: tuple((r[d] is None, str(r[d] or "")) for d in dims))
    return out


def _number(value: Any) -> int:
    return int(value or 0)


# ---------------------------------------------------------------------------
# Consultations


def yorozu_link_q() -> Q:
    """Return the よろず連携 condition of a consultation (see module docstring)."""
    window, yorozu = OrganisationKind.INPIT_WINDOW, OrganisationKind.YOROZU
    attended_by = {
        kind: Exists(
            Consultation.attendees.through.objects.filter(
                consultation_id=OuterRef("pk"), organisation__kind=kind
            )
        )
        for kind in (window, yorozu)
    }

    def referred(a: str, b: str) -> Exists:
        return Exists(
            Referral.objects.filter(
                case_id=OuterRef("case_id"),
                from_organisation__kind=a,
                to_organisation__kind=b,
            ).exclude(status=ReferralStatus.CANCELLED)
        )

    pair = Q(organisation__kind=window) | Q(organisation__kind=yorozu)
    return pair & (
        (Q(organisation__kind=window) & Q(attended_by[yorozu]))
        | (Q(organisation__kind=yorozu) & Q(attended_by[window]))
        | Q(referred(window, yorozu))
        | Q(referred(yorozu, window))
    )


def consultation_statistics(
    *,
    actor: Actor,
    fiscal_year: int,
    group_by: Sequence[str] = (),
    filters: dict[str, Any] | None = None,
    measures: Sequence[str] = (),
    scope: str | None = None,
) -> dict[str, Any]:
    """Return consultation measures for one fiscal year, grouped by dimensions.

    `filters` keeps rows whose dimension equals a code (e.g. {"topic":
    "trade_secret"}); `measures` may add "yorozu_links".
    """
    reach = statistics_reach(actor, scope=scope)
    dims = parse_group_by(group_by, CONSULTATION_DIMENSIONS)
    filters = parse_filters(filters, CONSULTATION_DIMENSIONS)
    extra = [m for m in measures if m]
    unknown = [m for m in extra if m not in OPTIONAL_CONSULTATION_MEASURES]
    if unknown:
        raise ValidationFailed(
            _("指標「%(m)s」は使えません。") % {"m": ", ".join(unknown)},
            field="measures",
        )
    if not (_DETAIL_DIMENSIONS & {*dims, *filters} or _DETAIL_MEASURES & {*extra}):
        grouped, totals = _fact_queries(reach, fiscal_year, dims, filters, extra)
    else:
        grouped, totals = _detail_queries(reach, fiscal_year, dims, filters, extra)
    rows, total = grouped.rows_and_totals(totals)
    names = [name for name, _sql in grouped.measures]
    for row in [*rows, total]:
        for name in names:
            row[name] = _number(row[name])
    hidden = _hidden_confidential(actor, reach, fiscal_year, dims, filters)
    rows, total, folded = _suppress_small_cells(dims, names, rows, total, hidden)
    labelled = _labelled(dims, rows)
    for row in labelled:
        if row.pop("_other", False):
            for d in dims:
                row[f"{d}_label"] = _("その他（少数のため合算）")
            row["other"] = True
            row["folded_cells"] = folded
    return statistics_response(fiscal_year, dims, filters, reach, labelled, total)


# Cells with fewer consultations than this that hold a confidential
# consultation the caller may not see are folded into 「その他」 (issue 26).
MIN_CELL_CONSULTATIONS = 3


def _cell_key(row: dict[str, Any], dims: Sequence[str]) -> tuple:
    return tuple("" if row[f"d_{d}"] is None else str(row[f"d_{d}"]) for d in dims)


def _hidden_confidential(
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
    expressions = _consultation_expressions()
    if "is_startup" in {*dims, *filters}:
        expressions["is_startup"] = _startup_expression("company__", "occurred_on")
    common = {
        "qs": qs,
        "expressions": expressions,
        "inputs": {},
        "measures": [("hidden", "COUNT(*)")],
        "filters": filters,
        "decoders": {"is_startup": lambda v: None if v is None else bool(v)},
    }
    total = _number(_Grouped(dims=[], **common).rows()[0]["hidden"])
    if not total:
        return {}
    counts: dict[tuple | None, int] = {None: total}
    if dims:
        for row in _Grouped(dims=dims, **common).rows():
            counts[_cell_key(row, dims)] = _number(row["hidden"])
    return counts


def _suppress_small_cells(
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


_CONSULTATION_SQL_MEASURES = [
    ("consultations", "COUNT(*)"),
    ("companies", "COUNT(DISTINCT t.m_company)"),
    ("new_companies", "SUM(t.m_first)"),
    ("minutes", "SUM(t.m_minutes)"),
]
_YOROZU_LINKS_MEASURE = ("yorozu_links", "SUM(t.m_link)")
_FIRST_FILERS_MEASURE = ("first_filers", "COUNT(DISTINCT t.m_first_filer)")
# Dimensions the statistics facts do not carry (a consultation has several
# IP types; programs come from enrolments; startup status needs the date):
# those requests read the detail.
_DETAIL_DIMENSIONS = frozenset({"ip_type", "program", "is_startup"})
# Measures that need the consultation's date and company (detail only).
_DETAIL_MEASURES = frozenset({"first_filers"})


def _consultation_inputs(*, minutes: str) -> dict[str, Any]:
    """Return the measure inputs of a consultation row (facts or detail)."""
    return {
        "m_company": F("company_id"),
        "m_first": Case(When(is_company_first=True, then=Value(1)), default=Value(0)),
        "m_minutes": F(minutes),
    }


def _fact_expressions() -> dict[str, Any]:
    return {
        "fiscal_year": F("fiscal_year"),
        "month": F("month"),
        "prefecture": F("prefecture_no"),
        "company_prefecture": F("company__prefecture_id"),
        "region": F("region_id"),
        "organisation": F("organisation__code"),
        "organisation_kind": F("organisation_kind"),
        "channel": F("channel"),
        "topic": F("topic_no"),
        "size_class": F("company__size_class"),
        "industry": _industry_division("company__industry"),
    }


def _prefecture_no(code: str) -> int:
    # "13" → 13; anything else (not ASCII digits, "²") matches no row.
    return int(code) if code.isascii() and code.isdigit() else -1


_TOPICS_BY_NUMBER = {n: str(topic) for topic, n in TOPIC_NUMBERS.items()}
# Facts store prefecture and topic as numbers (crm.models.ConsultationFact).
_FACT_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "prefecture": _prefecture_no,
    "topic": lambda code: TOPIC_NUMBERS.get(code, -1),
}
_FACT_DECODERS: dict[str, Callable[[Any], Any]] = {
    "prefecture": lambda n: None if n is None else f"{n:02d}",
    "topic": lambda n: _TOPICS_BY_NUMBER.get(n, ""),
}


def _fact_queries(
    reach: Reach, fy: int, dims: list[str], filters: dict[str, Any], extra: list[str]
) -> tuple[_Grouped, _Grouped]:
    """Return the grouped and the totals query over the statistics facts.

    A fact row is a consultation × topic; `is_primary` keeps one row per
    consultation wherever topics are not asked for (a topic filter already
    keeps at most one row per consultation).
    """
    from crm.models import ConsultationFact

    qs = ConsultationFact.objects.filter(fiscal_year=fy)
    if reach.level != "nation":
        place = Q(organisation_id=reach.organisation_id)
        if reach.level == "region":
            place |= Q(prefecture_no__in=[int(c) for c in reach.prefecture_codes])
        qs = qs.filter(place)
    filters = {
        d: _FACT_ENCODERS[d](v) if d in _FACT_ENCODERS else v
        for d, v in filters.items()
    }
    inputs = _consultation_inputs(minutes="minutes")
    measures = list(_CONSULTATION_SQL_MEASURES)
    if "yorozu_links" in extra:
        inputs["m_link"] = Case(
            When(is_yorozu_link=True, then=Value(1)), default=Value(0)
        )
        measures.append(_YOROZU_LINKS_MEASURE)
    once = qs if "topic" in filters else qs.filter(is_primary=True)
    common = {
        "expressions": _fact_expressions(),
        "inputs": inputs,
        "measures": measures,
        "filters": filters,
        "row_id": False,
        "decoders": _FACT_DECODERS,
    }
    split: tuple[Q, ...] = ()
    if (
        "prefecture" in dims
        and "prefecture" not in filters
        and connections[qs.db].vendor == "postgresql"
    ):
        # Both fact indexes lead with the prefecture: two ranges (01–14 hold
        # about half of Japan's population) and the national organisations
        # are three index range scans, in parallel beside the totals.
        split = (
            Q(prefecture_no__lte=14),
            Q(prefecture_no__gt=14),
            Q(prefecture_no__isnull=True),
        )
    grouped = _Grouped(
        qs=qs if "topic" in dims else once, dims=dims, split=split, **common
    )
    return grouped, _Grouped(qs=once, dims=[], **common)


def _detail_queries(
    reach: Reach, fy: int, dims: list[str], filters: dict[str, Any], extra: list[str]
) -> tuple[_Grouped, _Grouped]:
    """Return the grouped and the totals query over consultations and their joins."""
    qs = Consultation.objects.filter(reach.q("organisation"), fiscal_year=fy)
    inputs = _consultation_inputs(minutes="duration_minutes")
    measures = list(_CONSULTATION_SQL_MEASURES)
    if "yorozu_links" in extra:
        inputs["m_link"] = Case(When(yorozu_link_q(), then=Value(1)), default=Value(0))
        measures.append(_YOROZU_LINKS_MEASURE)
    if "first_filers" in extra:
        inputs["m_first_filer"] = Case(
            When(
                Q(company__size_class__in=[SizeClass.MICRO, SizeClass.SME])
                & Q(LessThanOrEqual(F("occurred_on"), _first_filing_on())),
                then=F("company_id"),
            ),
            default=None,
        )
        measures.append(_FIRST_FILERS_MEASURE)
    expressions = _consultation_expressions()
    if "is_startup" in {*dims, *filters}:
        expressions["is_startup"] = _startup_expression("company__", "occurred_on")
    common = {
        "qs": qs,
        "expressions": expressions,
        "inputs": inputs,
        "measures": measures,
        "filters": filters,
        "decoders": {"is_startup": lambda v: None if v is None else bool(v)},
    }
    return _Grouped(dims=dims, **common), _Grouped(dims=[], **common)


def parse_filters(filters: dict[str, Any] | None, allowed: Sequence[str]) -> dict:
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = [k for k in filters if k not in allowed]
    if unknown:
        raise ValidationFailed(
            _("絞り込み「%(dims)s」は使えません。") % {"dims": ", ".join(unknown)},
            field=unknown[0],
        )
    return {k: _coerce_filter(k, v) for k, v in filters.items()}


# ---------------------------------------------------------------------------
# Referrals

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
    expressions = _referral_expressions(fiscal_year)

    def run(dimensions: list[str]) -> list[dict[str, Any]]:
        grouped = _Grouped(
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
                row[name] = _number(row[name])
            accepted = row["accepted"] + row["completed"]
            answered = accepted + row["declined"]
            row["acceptance_rate"] = round(accepted / answered, 4) if answered else None
            key = tuple(row[f"d_{d}"] for d in dimensions)
            row["median_answer_business_days"] = medians.get(key)
        return rows

    rows = _labelled(dims, run(dims))
    return statistics_response(fiscal_year, dims, filters, reach, rows, run([])[0])


# ---------------------------------------------------------------------------
# Shared with programs/selectors.py (programs may import crm, not the reverse)


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
    grouped = _Grouped(
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
            row[name] = _number(row[name])
    return _labelled(dims, rows)


# ---------------------------------------------------------------------------
# Outcomes (managers' page KPI)


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
    return {name: _number(value) for name, value in figures.items()}


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


# ---------------------------------------------------------------------------
# Plug-in: program statistics (programs registers it in its AppConfig.ready;
# crm never imports programs).

_program_statistics = None


def program_statistics_register(function) -> None:
    """Let the programs app provide `program_statistics` to crm's pages."""
    global _program_statistics
    _program_statistics = function


def program_statistics_providers():
    """Return the registered program statistics function, or None."""
    return _program_statistics
