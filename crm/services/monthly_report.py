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
first business day only the closure days before it can add to it). The
workbook itself is crm/services/monthly_report_workbook.py.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Notification
from crm.services.monthly_report_workbook import (
    XLSX_CONTENT_TYPE,
    month_label,
    monthly_report_sheets,
    write_workbook,
)
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


def dedupe_key(user_id: int, month: date) -> str:
    """Return the once-per-manager-per-month key of a report."""
    return f"monthly-report:{user_id}:{month:%Y-%m}"


def first_business_day(year: int, month: int) -> date:
    """Return the first business day of a month (e.g. 2026-01 → 2026-01-05)."""
    return next_business_day(date(year, month, 1))


def reported_month(today: date) -> date:
    """Return the first day of the month before today's."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


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
