"""The `consultation_statistics` export kind: crm.statistics' table as a file.

The rows of consultation_statistics with a 合計 row and the outcome KPIs of
the same year and reach; the headers are shared with the monthly report.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.exports.kinds import ExportTable, export_kind_register
from crm.exports.writers import INT, TEXT, Column
from support_network.actors import Actor
from support_network.errors import (
    ValidationFailed,
)

DIMENSION_HEADERS = {
    "fiscal_year": "年度",
    "month": "月",
    "prefecture": "都道府県（対応組織）",
    "company_prefecture": "都道府県（企業等）",
    "region": "地域（経済産業局）",
    "organisation": "組織",
    "organisation_kind": "組織の種別",
    "channel": "相談方法",
    "topic": "相談分野",
    "ip_type": "知財の種類",
    "size_class": "企業規模",
    "industry": "業種（日本標準産業分類）",
    "program": "支援事業",
    "is_startup": "スタートアップ",
}
MEASURE_HEADERS = {
    "consultations": "相談件数",
    "companies": "企業数",
    "new_companies": "新規企業数",
    "minutes": "相談時間（分）",
    "yorozu_links": "よろず連携件数",
    "first_filers": "初めて出願した中小企業数",
}
# Outcome KPIs (crm.statistics.outcome_kpis) written under the 合計 row.
OUTCOME_KPI_HEADERS = {
    "filings_after_consultation": "（成果）相談後の出願件数",
    "licences": "（成果）相談後のライセンス契約件数",
    "financings": "（成果）相談後の資金調達件数",
    "funds_raised_yen": "（成果）相談後の資金調達額（円）",
}
DEFAULT_GROUP_BY = ["prefecture", "topic"]


def _statistics_params(params: dict) -> dict:
    """Return the statistics arguments of params, validated (400 with field)."""
    from crm.statistics.dimensions import (
        CONSULTATION_DIMENSIONS,
        OPTIONAL_CONSULTATION_MEASURES,
        parse_filters,
        parse_group_by,
    )

    group_by = params.get("group_by")
    group_by = parse_group_by(
        DEFAULT_GROUP_BY if group_by in (None, "", []) else group_by,
        CONSULTATION_DIMENSIONS,
    )
    filters = params.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise ValidationFailed(
            _("絞り込み条件（filters）はオブジェクトで指定してください。"),
            field="filters",
        )
    measures = params.get("measures") or []
    if isinstance(measures, str):
        measures = [m.strip() for m in measures.split(",") if m.strip()]
    if not isinstance(measures, list) or any(
        m not in OPTIONAL_CONSULTATION_MEASURES for m in measures
    ):
        raise ValidationFailed(
            _("追加の指標（measures）は %(m)s から選んでください。")
            % {"m": ", ".join(OPTIONAL_CONSULTATION_MEASURES)},
            field="measures",
        )
    cleaned = {
        "group_by": group_by,
        "filters": parse_filters(filters, CONSULTATION_DIMENSIONS),
        "measures": measures,
    }
    scope = params.get("scope")
    if scope not in (None, ""):
        cleaned["scope"] = scope
    return cleaned


def consultation_statistics_check(
    *, actor: Actor, fiscal_year: int, params: dict
) -> dict:
    """Validate params and refuse (403) actors without statistics, at request time."""
    from crm.statistics.reach import statistics_reach

    cleaned = _statistics_params(params)
    statistics_reach(actor, scope=cleaned.get("scope"))
    return cleaned


def consultation_statistics_export(
    *, actor: Actor, fiscal_year: int, params: dict
) -> ExportTable:
    """The rows of crm.statistics.consultation_statistics, with a 合計 row."""
    from crm.statistics.consultations import consultation_statistics
    from crm.statistics.dimensions import (
        CONSULTATION_MEASURES,
    )
    from crm.statistics.outcomes import outcome_kpis

    args = _statistics_params(params)
    result = consultation_statistics(
        actor=actor,
        fiscal_year=fiscal_year,
        group_by=args["group_by"],
        filters=args["filters"] or None,
        measures=args["measures"],
        scope=args.get("scope"),
    )
    group_by = list(result.get("group_by") or args["group_by"])
    rows = result.get("rows") or []
    totals = result.get("totals") or {}
    measures = [*CONSULTATION_MEASURES, *args["measures"]]
    columns = [Column(DIMENSION_HEADERS.get(d, d), TEXT, 24) for d in group_by]
    columns += [Column(MEASURE_HEADERS.get(m, m), INT, 12) for m in measures]

    def label(row: dict, dim: str):
        value = row.get(f"{dim}_label")
        if value in (None, ""):
            value = row.get(dim)
        return "" if value is None else str(value)

    def generate():
        for row in rows:
            yield (
                *(label(row, d) for d in group_by),
                *(row.get(m) for m in measures),
            )
        head = ("合計", *([""] * (len(group_by) - 1))) if group_by else ()
        yield (*head, *(totals.get(m) for m in measures))
        # The outcome KPIs of the same year and reach: a label in the first
        # column, the figure in the first measure column (issue 16 item 7).
        if group_by:
            for name, header in OUTCOME_KPI_HEADERS.items():
                blanks = [""] * (len(group_by) - 1)
                yield (header, *blanks, kpis[name], *([None] * (len(measures) - 1)))

    kpis = outcome_kpis(actor=actor, fiscal_year=fiscal_year, scope=args.get("scope"))
    scope = (result.get("scope") or {}).get("label") or ""
    title = f"相談統計 {fiscal_year}年度"
    return ExportTable(
        columns=columns,
        rows=generate(),
        total=len(rows) + 1 + (len(OUTCOME_KPI_HEADERS) if group_by else 0),
        sheet_title=f"{title} {scope}".strip(),
    )


def register() -> None:
    """Register the `consultation_statistics` export kind (CrmConfig.ready)."""
    export_kind_register(
        "consultation_statistics",
        consultation_statistics_export,
        check=consultation_statistics_check,
        row_level=False,
    )
