"""Consultation statistics per fiscal year (API `statistics/consultations`).

One service computes every consultation measure over every dimension, in
the database, scoped by the caller's reach; the API, the managers' page, the
monthly mail and the exports all call `consultation_statistics`. Most
requests read the statistics facts (crm.statistics.facts); dimensions and
measures the facts do not carry read the consultations and their joins.

Definitions (also in the README):
- Totals count a consultation once.
- `new_companies`: companies whose first consultation anywhere in the
  network (earliest, whatever organisation; `Consultation.is_company_first`)
  is one of the counted consultations.
- `yorozu_links` (JPO regional KPI よろず連携件数): consultations of an INPIT
  窓口 or a よろず拠点 with the other kind attending (相互同席), or on a case
  referred between the two kinds (any status but cancelled).
- `first_filers` (知的財産推進計画2025: SMEs filing for the first time): the
  distinct 中小企業者 (size micro or sme) among the counted consultations'
  companies whose first filing outcome anywhere in the network (earliest
  Outcome of kind filing) is on or after one of those consultations. A
  year's figure grows as later first filings are recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext as _

from crm.choices import (
    TOPIC_NUMBERS,
    ReferralStatus,
    SizeClass,
)
from crm.models import Consultation, Referral
from crm.statistics.dimensions import (
    CONSULTATION_DIMENSIONS,
    OPTIONAL_CONSULTATION_MEASURES,
    consultation_expressions,
    first_filing_on,
    industry_division,
    labelled,
    parse_filters,
    parse_group_by,
    startup_expression,
)
from crm.statistics.query import Grouped, number, statistics_response
from crm.statistics.reach import Reach, statistics_reach
from crm.statistics.small_cells import hidden_confidential, suppress_small_cells
from support_network.actors import Actor
from support_network.choices import OrganisationKind
from support_network.errors import ValidationFailed


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
            row[name] = number(row[name])
    hidden = hidden_confidential(actor, reach, fiscal_year, dims, filters)
    rows, total, folded = suppress_small_cells(dims, names, rows, total, hidden)
    shown = labelled(dims, rows)
    for row in shown:
        if row.pop("_other", False):
            for d in dims:
                row[f"{d}_label"] = _("その他（少数のため合算）")
            row["other"] = True
            row["folded_cells"] = folded
    return statistics_response(fiscal_year, dims, filters, reach, shown, total)


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
        "industry": industry_division("company__industry"),
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
) -> tuple[Grouped, Grouped]:
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
    grouped = Grouped(
        qs=qs if "topic" in dims else once, dims=dims, split=split, **common
    )
    return grouped, Grouped(qs=once, dims=[], **common)


def _detail_queries(
    reach: Reach, fy: int, dims: list[str], filters: dict[str, Any], extra: list[str]
) -> tuple[Grouped, Grouped]:
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
                & Q(LessThanOrEqual(F("occurred_on"), first_filing_on())),
                then=F("company_id"),
            ),
            default=None,
        )
        measures.append(_FIRST_FILERS_MEASURE)
    expressions = consultation_expressions()
    if "is_startup" in {*dims, *filters}:
        expressions["is_startup"] = startup_expression("company__", "occurred_on")
    common = {
        "qs": qs,
        "expressions": expressions,
        "inputs": inputs,
        "measures": measures,
        "filters": filters,
        "decoders": {"is_startup": lambda v: None if v is None else bool(v)},
    }
    return Grouped(dims=dims, **common), Grouped(dims=[], **common)
