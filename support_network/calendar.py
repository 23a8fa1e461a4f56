"""Japanese business days, fiscal years and era (和暦) labels.

The support network works to the calendar of Japan's national administration: referral
deadlines and "business days until answered" statistics skip weekends, national holidays
and the year-end closure (行政機関の休日), programmes are budgeted per fiscal year
(年度, April–March) and reports label those years in the Japanese era. Python, Django
and Babel cannot do any of this out of the box (reference/calendar.md §4), so the rules
live here, in one place, as pure functions of dates.

Timestamps are stored in UTC, but a "day" always means a day in Japan: every function
that accepts a ``datetime`` converts it to Asia/Tokyo first (see ``local_date``).
"""

from __future__ import annotations

import functools
import threading
import zoneinfo
from datetime import date, datetime, time, timedelta

import holidays

__all__ = [
    "JST",
    "add_business_days",
    "business_days_between",
    "era_year",
    "fiscal_year",
    "fiscal_year_bounds",
    "fiscal_year_datetime_bounds",
    "fiscal_year_label",
    "fiscal_year_short_label",
    "fiscal_year_wareki_label",
    "is_business_day",
    "is_national_holiday",
    "local_date",
    "next_business_day",
    "wareki_date",
]

JST = zoneinfo.ZoneInfo("Asia/Tokyo")

# Fiscal years (会計年度) start on 1 April (財政法第11条; reference/calendar.md §3).
FISCAL_YEAR_START_MONTH = 4

# Eras (元号) and the Gregorian day each began, newest first. Only 明治–令和 are needed
# (reference/calendar.md §4 recommends a hand-written table over PyICU/japanera).
# 明治 is dated from 1868-10-23 (the Gregorian equivalent of 明治元年9月8日, the day of
# the era proclamation); dates before the 1873 calendar reform are shown in Gregorian
# reckoning, which is good enough for a CRM that never stores such dates.
ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
    (date(1912, 7, 30), "大正"),
    (date(1868, 10, 23), "明治"),
)

# Guards the lazy, year-by-year expansion of the shared ``holidays`` object, which is
# a mutable dict and is not safe to populate from two threads at once.
_HOLIDAYS_LOCK = threading.Lock()


@functools.cache
def _japan_holidays() -> holidays.HolidayBase:
    """Return the shared ``holidays.Japan`` calendar (building it is expensive)."""
    return holidays.Japan()


@functools.cache
def _holiday_dates(year: int) -> frozenset[date]:
    """Return the national holidays of *year* as an immutable set.

    The set includes 振替休日 and 国民の休日, which ``holidays`` 0.108 computes exactly
    as ``jpholiday`` does (reference/calendar.md §1). Years outside the package's range
    (1949–2099) yield an empty set.
    """
    calendar = _japan_holidays()
    with _HOLIDAYS_LOCK:
        # Membership on a date of the year makes the package expand that year.
        _ = date(year, 1, 1) in calendar
        return frozenset(day for day in calendar if day.year == year)


def is_national_holiday(d: date) -> bool:
    """Return whether *d* is a national holiday (国民の祝日, 振替休日 or 国民の休日)."""
    d = _as_date(d)
    return d in _holiday_dates(d.year)


def _is_year_end_closure(d: date) -> bool:
    """Return whether *d* falls in the 12/29–1/3 closure of government offices."""
    # 行政機関の休日に関する法律 第1条第1項第3号 (reference/calendar.md §2).
    return (d.month == 12 and d.day >= 29) or (d.month == 1 and d.day <= 3)


def is_business_day(d: date) -> bool:
    """Return whether *d* is a business day of the national administration.

    Weekends, national holidays and 12/29–1/3 are closure days (行政機関の休日,
    reference/calendar.md §2); every other day is a business day.
    """
    d = _as_date(d)
    return not (d.weekday() >= 5 or _is_year_end_closure(d) or is_national_holiday(d))


def next_business_day(d: date) -> date:
    """Return *d* if it is a business day, otherwise the first business day after it.

    This is the deadline rule of 行政機関の休日に関する法律 第2条: a time limit ending
    on a closure day moves to the next business day (reference/calendar.md §2).
    """
    d = _as_date(d)
    while not is_business_day(d):
        d += timedelta(days=1)
    return d


def add_business_days(d: date, n: int) -> date:
    """Return the *n*-th business day after *d* (Friday + 1 is Monday).

    *d* itself is never counted, whether or not it is a business day, so Saturday + 1
    is Monday as well. ``n == 0`` returns ``next_business_day(d)``.

    Raises:
        ValueError: if *n* is negative.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    d = _as_date(d)
    if n == 0:
        return next_business_day(d)
    remaining = n
    while remaining:
        d += timedelta(days=1)
        if is_business_day(d):
            remaining -= 1
    return d


def business_days_between(start: date, end: date) -> int:
    """Return the number of business days *d* with ``start < d <= end``.

    A referral sent on Friday and answered on Monday took one business day; an answer on
    the same day took zero. Returns 0 when *end* is not after *start*.
    """
    start, end = _as_date(start), _as_date(end)
    count = 0
    d = start + timedelta(days=1)
    while d <= end:
        count += is_business_day(d)
        d += timedelta(days=1)
    return count


def local_date(value: date | datetime) -> date:
    """Return the Japanese calendar date of *value*.

    An aware datetime is converted to Asia/Tokyo; a naive one is taken to be JST
    already (the project's wall-clock convention). A plain date is returned unchanged.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.date()
        return value.astimezone(JST).date()
    return value


def fiscal_year(value: date | datetime) -> int:
    """Return the fiscal year (年度) containing *value*, e.g. 2026-03-31 → 2025.

    Datetimes are judged by their JST date, so 2026-03-31T15:30Z (00:30 JST on
    1 April) belongs to FY2026 (reference/calendar.md §3).
    """
    d = local_date(value)
    return d.year if d.month >= FISCAL_YEAR_START_MONTH else d.year - 1


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """Return the first and last day of fiscal year *fy* (both inclusive)."""
    return date(fy, FISCAL_YEAR_START_MONTH, 1), date(fy + 1, 3, 31)


def fiscal_year_datetime_bounds(fy: int) -> tuple[datetime, datetime]:
    """Return the half-open JST datetime range ``[start, end)`` of fiscal year *fy*.

    Use it for ``created_at__gte=start, created_at__lt=end`` filters on UTC timestamps.
    """
    return (
        datetime.combine(date(fy, FISCAL_YEAR_START_MONTH, 1), time(), tzinfo=JST),
        datetime.combine(date(fy + 1, FISCAL_YEAR_START_MONTH, 1), time(), tzinfo=JST),
    )


def era_year(year: int, month: int = 12, day: int = 31) -> tuple[str, int]:
    """Return the era name and era year in force on the given day, e.g. ("令和", 1).

    The default day, 31 December, names the era a calendar year ends in, which is the
    era used for fiscal-year labels (see ``fiscal_year_wareki_label``).

    Raises:
        ValueError: if the date is invalid or earlier than 明治 (1868-10-23).
    """
    d = date(year, month, day)
    for start, name in ERAS:
        if d >= start:
            return name, d.year - start.year + 1
    raise ValueError(f"{d.isoformat()} is before the 明治 era (1868-10-23)")


def _era_year_text(number: int) -> str:
    """Return the era year as written in labels: 元 for the first year, else digits."""
    return "元" if number == 1 else str(number)


def wareki_date(d: date) -> str:
    """Return *d* written in the Japanese era, e.g. "令和元年5月1日"."""
    d = _as_date(d)
    name, number = era_year(d.year, d.month, d.day)
    return f"{name}{_era_year_text(number)}年{d.month}月{d.day}日"


def fiscal_year_wareki_label(fy: int) -> str:
    """Return the era label of fiscal year *fy*, e.g. "令和7年度" for 2025.

    A fiscal year takes the era of its calendar year as it stands at year end:
    FY2019 is 令和元年度 although it began under 平成, FY2018 is 平成30年度 and FY1988
    is 昭和63年度 (reference/calendar.md §3).
    """
    name, number = era_year(fy)
    return f"{name}{_era_year_text(number)}年度"


def fiscal_year_label(fy: int) -> str:
    """Return the full fiscal-year label, e.g. "2025年度（令和7年度）"."""
    return f"{fiscal_year_short_label(fy)}（{fiscal_year_wareki_label(fy)}）"


def fiscal_year_short_label(fy: int) -> str:
    """Return the Gregorian fiscal-year label, e.g. "2025年度"."""
    return f"{fy}年度"


def _as_date(value: date) -> date:
    """Return *value* as a plain date, reducing a datetime to its JST date."""
    # A datetime is a date subclass; without this, ``datetime in set_of_dates`` is
    # always False and a datetime argument would silently be treated as a workday.
    return local_date(value) if isinstance(value, datetime) else value


# --- input: the one parser of a fiscal year and of a `--now` -----------------

FIRST_FISCAL_YEAR = 2000


def fiscal_year_parse(
    value: object, *, now: datetime | None = None, field: str = "fiscal_year"
) -> int:
    """Return the fiscal year *value* names, the current one when it is empty.

    The one reading of a requested 年度 (API parameters, export requests, the
    statistics page): a Western year from FIRST_FISCAL_YEAR up to next fiscal
    year, since plans are entered before April. Anything else raises
    ValidationFailed with one Japanese message naming the range.
    """
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from support_network.errors import ValidationFailed

    current = fiscal_year(now or timezone.now())
    if value is None or (isinstance(value, str) and not value.strip()):
        return current
    last = current + 1
    message = _(
        "年度は%(first)d〜%(last)dの西暦年（4月始まり）で指定してください（例: %(example)d）。"
    ) % {"first": FIRST_FISCAL_YEAR, "last": last, "example": current}
    if isinstance(value, bool):
        raise ValidationFailed(message, field=field)
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(message, field=field) from None
    if not FIRST_FISCAL_YEAR <= year <= last:
        raise ValidationFailed(message, field=field)
    return year


def moment_parse(value: str | None) -> datetime | None:
    """Return the moment an ISO 8601 `--now` names (JST when it has no offset).

    The one reading of `--now` for the commands and the periodic tasks that
    replay a given moment; None or "" means "now" and returns None. A bad
    value raises ValueError with a Japanese message the commands show as is.
    """
    if value is None or not str(value).strip():
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(
            "--now は ISO 8601 形式で指定してください"
            f"（例: 2026-05-07T09:00+09:00）: {value}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=JST)
    return moment


# --- text: the one date spelling of the product (docs/dates.md) --------------


def date_text(value: date | datetime | None) -> str:
    """Return a date (or a datetime's JST day) as 2026/12/9; "" for none.

    The one date spelling of the UI, the notifications and the e-mails;
    the templates' `ymd` filter is the same function. 和暦 only where a
    document needs it (wareki_date).
    """
    if not value:
        return ""
    d = local_date(value)
    return f"{d.year}/{d.month}/{d.day}"
