"""Statistics dimensions: their SQL expressions, labels and request parsing.

The dimensions every statistic groups and filters by, shared by the
consultation, referral and program statistics (programs/statistics.py), so a
dimension means the same in each:
- A consultation belongs to the fiscal year of its JST date (April–March);
  a referral to that of its JST sending date.
- `prefecture` / `region` / `organisation` are those of the organisation
  that handled the consultation (for referrals: the sending organisation;
  `to_*` dimensions give the receiving one). `company_prefecture` is the
  company's.
- A consultation counts once in each of its topics and IP types.
- A consultation's `program` is each program its case is enrolled in (once
  per program, even with several enrolments in it).
- `industry` is the JSIC 大分類 of the company's code (the table is
  crm.rules'); `is_startup`: the company was a startup in the JPO sense
  (crm.rules.is_startup) on the consultation's date, from its recorded
  kind, founding date, employees, capital, industry and large-company
  control.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.db.models import (
    BooleanField,
    Case,
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
    Channel,
    IpType,
    ReferralStatus,
    SizeClass,
    Topic,
)
from crm.rules.company_size import (
    KIND_CORPORATION,
    KIND_SOLE_PROPRIETOR,
    STARTUP_MAX_AGE_YEARS,
    STARTUP_MAX_CAPITAL_YEN,
    STARTUP_MAX_EMPLOYEES,
    STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE,
)
from crm.rules.industries import (
    GROUP_MANUFACTURING,
    JSIC_MAJOR_STARTS,
    sme_industry_group,
)
from support_network.calendar import (
    fiscal_year_label,
)
from support_network.choices import OrganisationKind
from support_network.errors import ValidationFailed
from support_network.models import Organisation, Prefecture, Region

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

JSIC_PATH = Path(__file__).resolve().parents[2] / "seeds" / "data" / "jsic.csv"


def industry_division(path: str):
    """Return the JSIC 大分類 letter of the company's industry code (or "").

    Codes start with the letter ("E", "M76") or are digits whose first two
    name the 中分類 ("24", "7611"); string ranges map those to letters.
    """
    whens = [
        When(Q(**{f"{path}__gte": "A", f"{path}__lt": "U"}), then=Substr(path, 1, 1))
    ]
    starts = [(f"{middle:02d}", letter) for middle, letter in JSIC_MAJOR_STARTS]
    ends = [*(start for start, _letter in starts[1:]), "9:"]
    for (start, letter), end in zip(starts, ends, strict=True):
        whens.append(
            When(Q(**{f"{path}__gte": start, f"{path}__lt": end}), then=Value(letter))
        )
    return Case(*whens, default=Value(""))


def _month(year, month):
    return year * 100 + month


def consultation_expressions() -> dict[str, Any]:
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
        "industry": industry_division("company__industry"),
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


def startup_expression(company: str, on: str) -> Case:
    from crm.models import Company

    return Case(
        When(startup_q(company, on, companies=Company.objects.all()), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def first_filing_on(company: str = "company_id"):
    """Return a subquery: the date of the company's first filing outcome."""
    from crm.choices import OutcomeKind
    from crm.models import Outcome

    return Subquery(
        Outcome.objects.filter(company_id=OuterRef(company), kind=OutcomeKind.FILING)
        .order_by("occurred_on")
        .values("occurred_on")[:1]
    )


def referral_expressions(fy: int) -> dict[str, Any]:
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
        "industry": industry_division("case__company__industry"),
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


def parse_filters(filters: dict[str, Any] | None, allowed: Sequence[str]) -> dict:
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = [k for k in filters if k not in allowed]
    if unknown:
        raise ValidationFailed(
            _("絞り込み「%(dims)s」は使えません。") % {"dims": ", ".join(unknown)},
            field=unknown[0],
        )
    return {k: _coerce_filter(k, v) for k, v in filters.items()}


def labelled(dims: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
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
