"""Monthly statistics report mailed to managers (issue 7 "Monthly report").

On the first business day of each month (support_network.calendar: weekends,
national holidays and the 12/29–1/3 closure are skipped) every active
manager receives an xlsx of the previous month and of that month's fiscal
year to date, for their statistics reach (crm.statistics: the same numbers
as the managers' page and the API).

Beat runs `crm.monthly_report` daily at 07:00 JST; `monthly_report_send`
decides whether today is the day, so a holiday-shifted first business day
needs no special schedule. Each manager gets the report once per month
(a Notification with dedupe_key ``monthly-report:<user>:<YYYY-MM>`` claims it
before the e-mail is sent; a failed send releases the claim so a retry the
same day sends it), whatever the re-runs or concurrent runs.

The fiscal year to date is counted when the report is made: the fiscal year
of the reported month, from 1 April up to the moment of sending (on the
first business day only the closure days before it can add to it).
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.exports.statistics import DIMENSION_HEADERS, MEASURE_HEADERS
from crm.exports.writers import Column, column_width, neutralise
from crm.models import Notification
from crm.statistics.consultations import consultation_statistics
from crm.statistics.reach import statistics_reach
from crm.statistics.referrals import referral_statistics
from support_network.actors import Actor
from support_network.calendar import (
    fiscal_year,
    fiscal_year_label,
    local_date,
    next_business_day,
)
from support_network.choices import Role
from support_network.models import Membership
from support_network.people import person_name
from support_network.selectors import active_memberships

logger = logging.getLogger(__name__)

KIND = "statistics.monthly_report"
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


def dedupe_key(user_id: int, month: date) -> str:
    """Return the once-per-manager-per-month key of a report."""
    return f"monthly-report:{user_id}:{month:%Y-%m}"


def first_business_day(year: int, month: int) -> date:
    """Return the first business day of a month (e.g. 2026-01 → 2026-01-05)."""
    return next_business_day(date(year, month, 1))


def reported_month(today: date) -> date:
    """Return the first day of the month before today's."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def month_label(month: date) -> str:
    return _("%(y)d年%(m)d月") % {"y": month.year, "m": month.month}


# --- the workbook ----------------------------------------------------------------


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
    numbers; text neutralised against formula injection (crm.exports.writers).
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


# --- sending -------------------------------------------------------------------------


@dataclass
class MonthlyReportResult:
    is_report_day: bool = False
    month: str = ""
    sent: int = 0
    already_sent: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "is_report_day": self.is_report_day,
            "month": self.month,
            "sent": self.sent,
            "already_sent": self.already_sent,
            "failed": self.failed,
        }


def managers_to_report() -> dict[int, list[Membership]]:
    """Return the active manager memberships with an e-mail address, by user id."""
    memberships = (
        active_memberships()
        .filter(role=Role.MANAGER)
        .exclude(user__email="")
        .select_related("user", "organisation")
        .order_by("user_id", "organisation__code")
    )
    by_user: dict[int, list[Membership]] = defaultdict(list)
    for membership in memberships:
        by_user[membership.user_id].append(membership)
    return by_user


def _claim(user, month: date, now: datetime) -> Notification | None:
    """Record the report for user and month; None if it was already recorded.

    The partial unique index on dedupe_key decides (a concurrent run waits
    for the other's commit, then fails the insert): exactly once.
    """
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=user,
                kind=KIND,
                message=_("%(month)sの月次統計レポート（Excel）をメールで送りました。")
                % {"month": month_label(month)},
                dedupe_key=dedupe_key(user.pk, month),
                created_at=now,
                emailed_at=now,  # the e-mail is this service's, not the notifier's
            )
    except IntegrityError:
        return None


def _filename(membership: Membership, month: date) -> str:
    return f"月次統計_{month:%Y-%m}_{membership.organisation.code}.xlsx"


def _message(user, memberships: list[Membership], month: date, fy: int) -> EmailMessage:
    names = "、".join(m.organisation.name for m in memberships)
    body = _(
        "%(name)s 様\n\n"
        "%(month)sの月次統計レポートをお送りします（対象: %(orgs)s の担当範囲）。\n"
        "添付の Excel ファイルに、前月の相談件数（都道府県×相談分野、組織別）と"
        "%(fy)sの年度累計（都道府県×相談分野、組織別、月別、紹介）があります。\n\n"
        "同じ数値は CRM の「統計」ページでも確認できます。\n\n"
        "— 知財経営支援 CRM（このメールは自動送信です）\n"
    ) % {
        "name": person_name(user),
        "month": month_label(month),
        "orgs": names,
        "fy": fiscal_year_label(fy),
    }
    return EmailMessage(
        subject="[知財経営支援 CRM] "
        + _("%(month)sの月次統計レポート") % {"month": month_label(month)},
        body=body,
        to=[user.email],
    )


def monthly_report_send(*, now: datetime | None = None) -> MonthlyReportResult:
    """Mail each active manager the monthly report, if today is the day.

    Does nothing unless today (JST) is the first business day of the month.
    Each manager is mailed once per month however often this runs; a manager
    with several manager memberships gets one e-mail with one file each.
    """
    now = now or timezone.now()
    today = local_date(now)
    result = MonthlyReportResult()
    if today != first_business_day(today.year, today.month):
        return result
    month = reported_month(today)
    result.is_report_day = True
    result.month = f"{month:%Y-%m}"
    managers = managers_to_report()
    users = get_user_model().objects.in_bulk(list(managers))
    for user_id, memberships in managers.items():
        user = users[user_id]
        claim = _claim(user, month, now)
        if claim is None:
            result.already_sent += 1
            continue
        try:
            email = _message(user, memberships, month, fiscal_year(month))
            for membership in memberships:
                actor = Actor(user=user, membership=membership)
                data = write_workbook(
                    monthly_report_sheets(actor, month=month, now=now)
                )
                email.attach(_filename(membership, month), data, XLSX_CONTENT_TYPE)
            email.send()
        except Exception:
            # Release the claim: a retry today (task or command) sends it.
            logger.exception("monthly report for user %s not sent", user_id)
            Notification.objects.filter(pk=claim.pk).delete()
            result.failed += 1
            continue
        result.sent += 1
    if result.sent or result.failed:
        logger.info("monthly report %s: %s", result.month, result.as_dict())
    return result
