"""The workbook of the monthly statistics report: its sheets and its xlsx file.

`monthly_report_sheets` counts, for one manager's membership, the previous
month and that month's fiscal year to date with crm.statistics (the same
numbers as the managers' page and the API); `write_workbook` writes the
sheets as an xlsx. Sending it is crm/services/monthly_report.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.exports.statistics import DIMENSION_HEADERS, MEASURE_HEADERS
from crm.exports.writers import Column, column_width, neutralise
from crm.statistics.consultations import consultation_statistics
from crm.statistics.reach import statistics_reach
from crm.statistics.referrals import referral_statistics
from support_network.actors import Actor
from support_network.calendar import fiscal_year, fiscal_year_label

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEASURES = ("consultations", "companies", "new_companies", "minutes", "yorozu_links")
REFERRAL_COLUMNS = (
    ("referrals", gettext_lazy("紹介件数")),
    ("sent", gettext_lazy("回答待ち")),
    ("accepted", gettext_lazy("受入")),
    ("completed", gettext_lazy("完了")),
    ("declined", gettext_lazy("辞退")),
    ("expired", gettext_lazy("期限切れ")),
    ("cancelled", gettext_lazy("取消")),
)


def month_label(month: date) -> str:
    return _("%(y)d年%(m)d月") % {"y": month.year, "m": month.month}


@dataclass
class Sheet:
    """One worksheet: a title, its columns and rows (header row frozen, filtered)."""

    title: str
    columns: Sequence[Column]
    rows: list[Sequence[Any]] = field(default_factory=list)
    # num_format by column, or by (row, column) for one cell (rows from 1).
    formats: dict[Any, str] = field(default_factory=dict)


def _measure_columns() -> list[Column]:
    return [Column(MEASURE_HEADERS[m], "int", 12) for m in MEASURES]


def _consultation_sheet(
    title: str, result: dict[str, Any], dims: Sequence[str]
) -> Sheet:
    """A sheet of consultation_statistics rows with a 合計 row (totals)."""
    columns = [Column(DIMENSION_HEADERS[d], "text", 24) for d in dims]
    columns += _measure_columns()
    rows: list[Sequence[Any]] = [
        [
            *(r[f"{d}_label"] for d in dims),
            *(r[m] for m in MEASURES),
        ]
        for r in result["rows"]
    ]
    totals = result["totals"]
    rows.append([_("合計"), *([""] * (len(dims) - 1)), *(totals[m] for m in MEASURES)])
    return Sheet(title=title, columns=columns, rows=rows)


def _referral_sheet(title: str, result: dict[str, Any]) -> Sheet:
    columns = [Column(DIMENSION_HEADERS["organisation"], "text", 30)]
    columns += [Column(str(header), "int", 10) for _key, header in REFERRAL_COLUMNS]
    columns += [
        Column(_("受入率"), "decimal", 10),
        Column(_("回答までの営業日数（中央値）"), "decimal", 14),
    ]
    rate, median = len(columns) - 2, len(columns) - 1

    def line(label: str, r: dict[str, Any]) -> list[Any]:
        return [
            label,
            *(r[key] for key, _header in REFERRAL_COLUMNS),
            r["acceptance_rate"],
            r["median_answer_business_days"],
        ]

    rows = [line(r["organisation_label"], r) for r in result["rows"]]
    rows.append(line(_("合計"), result["totals"]))
    return Sheet(
        title=title,
        columns=columns,
        rows=rows,
        formats={rate: "0.0%", median: "0.0"},
    )


def _summary_sheet(
    *,
    scope: str,
    month: date,
    fy: int,
    made_at: datetime,
    month_totals: dict[str, Any],
    year_totals: dict[str, Any],
    year_referrals: dict[str, Any],
) -> Sheet:
    rows: list[Sequence[Any]] = [
        [_("対象"), scope, ""],
        [_("前月"), month_label(month), ""],
        [_("年度"), fiscal_year_label(fy), ""],
        [
            _("作成日時"),
            timezone.localtime(made_at).strftime("%Y/%m/%d %H:%M"),
            "",
        ],
    ]
    for m in MEASURES:
        rows.append([MEASURE_HEADERS[m], month_totals[m], year_totals[m]])
    rows.append([_("紹介件数"), "", year_referrals["referrals"]])
    rows.append([_("紹介の受入率"), "", year_referrals["acceptance_rate"]])
    rate_row = len(rows)
    rows.append(
        [
            _("回答までの営業日数（中央値）"),
            "",
            year_referrals["median_answer_business_days"],
        ]
    )
    return Sheet(
        title=_("概要"),
        columns=[
            Column(_("項目"), "text", 30),
            Column(_("前月"), "text", 26),
            Column(_("年度累計"), "text", 26),
        ],
        rows=rows,
        formats={(rate_row, 2): "0.0%", (rate_row + 1, 2): "0.0"},
    )


def monthly_report_sheets(
    actor: Actor, *, month: date, now: datetime | None = None
) -> list[Sheet]:
    """Return the report's sheets for the actor's reach (month = its first day)."""
    now = now or timezone.now()
    fy = fiscal_year(month)
    code = f"{month:%Y-%m}"
    reach = statistics_reach(actor)

    def consultations(dims: list[str], *, in_month: bool) -> dict[str, Any]:
        return consultation_statistics(
            actor=actor,
            fiscal_year=fy,
            group_by=dims,
            filters={"month": code} if in_month else None,
            measures=["yorozu_links"],
        )

    prev_area = consultations(["prefecture", "topic"], in_month=True)
    prev_org = consultations(["organisation"], in_month=True)
    year_area = consultations(["prefecture", "topic"], in_month=False)
    year_org = consultations(["organisation"], in_month=False)
    year_month = consultations(["month"], in_month=False)
    referrals = referral_statistics(
        actor=actor, fiscal_year=fy, group_by=["organisation"]
    )
    return [
        _summary_sheet(
            scope=reach.label,
            month=month,
            fy=fy,
            made_at=now,
            month_totals=prev_area["totals"],
            year_totals=year_area["totals"],
            year_referrals=referrals["totals"],
        ),
        _consultation_sheet(
            _("前月_都道府県×分野"), prev_area, ["prefecture", "topic"]
        ),
        _consultation_sheet(_("前月_組織"), prev_org, ["organisation"]),
        _consultation_sheet(
            _("年度累計_都道府県×分野"), year_area, ["prefecture", "topic"]
        ),
        _consultation_sheet(_("年度累計_組織"), year_org, ["organisation"]),
        _consultation_sheet(_("年度累計_月別"), year_month, ["month"]),
        _referral_sheet(_("年度累計_紹介"), referrals),
    ]


def write_workbook(sheets: Iterable[Sheet]) -> bytes:
    """Return an xlsx of the sheets (XlsxWriter, in memory: reports are small).

    Japanese headers in a frozen first row with an auto-filter; numbers as
    numbers; text neutralised against formula injection (crm.export_writers).
    """
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    cache: dict[str, Any] = {}

    def number_format(pattern: str):
        if pattern not in cache:
            cache[pattern] = workbook.add_format({"num_format": pattern})
        return cache[pattern]

    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.title[:31])
        for c, column in enumerate(sheet.columns):
            ws.set_column(c, c, column_width(column))
            ws.write_string(0, c, column.header, header)
        ws.freeze_panes(1, 0)
        for r, row in enumerate(sheet.rows, start=1):
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, neutralise(value))
                else:
                    pattern = sheet.formats.get((r, c)) or sheet.formats.get(c)
                    style = number_format(pattern) if pattern else None
                    ws.write_number(r, c, value, style)
        ws.autofilter(0, 0, max(len(sheet.rows), 1), len(sheet.columns) - 1)
    workbook.close()
    return buffer.getvalue()
