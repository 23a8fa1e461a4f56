"""Tests for support_network.calendar: business days, fiscal years and era labels.

Expected dates come from reference/calendar.md (§1 table of 2024–2027 special days and
holiday counts, §2 year-end closure, §3 fiscal year) so that a ``holidays`` upgrade
that changes them fails here first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from support_network.calendar import (
    JST,
    add_business_days,
    business_days_between,
    era_year,
    fiscal_year,
    fiscal_year_bounds,
    fiscal_year_datetime_bounds,
    fiscal_year_label,
    fiscal_year_short_label,
    fiscal_year_wareki_label,
    is_business_day,
    is_national_holiday,
    local_date,
    next_business_day,
    wareki_date,
)

# reference/calendar.md §1: (date, weekday as printed in the table).
SPECIAL_DAYS_2024_2027 = [
    (date(2024, 2, 12), "Mon"),  # 振替休日 (建国記念の日 on Sun)
    (date(2024, 5, 6), "Mon"),  # 振替休日 (こどもの日 on Sun)
    (date(2024, 8, 12), "Mon"),  # 振替休日 (山の日 on Sun)
    (date(2024, 9, 23), "Mon"),  # 振替休日 (秋分の日 on Sun)
    (date(2024, 11, 4), "Mon"),  # 振替休日 (文化の日 on Sun)
    (date(2025, 2, 24), "Mon"),  # 振替休日 (天皇誕生日 on Sun)
    (date(2025, 5, 6), "Tue"),  # 振替休日 (みどりの日 on Sun, 5/5 taken)
    (date(2025, 11, 24), "Mon"),  # 振替休日 (勤労感謝の日 on Sun)
    (date(2026, 5, 6), "Wed"),  # 振替休日 (憲法記念日 on Sun)
    (date(2026, 9, 22), "Tue"),  # 国民の休日 (between 敬老の日 and 秋分の日)
    (date(2027, 3, 22), "Mon"),  # 振替休日 (春分の日 on Sun)
]


def _days_of(year: int) -> list[date]:
    start = date(year, 1, 1)
    return [
        start + timedelta(days=i) for i in range((date(year + 1, 1, 1) - start).days)
    ]


# --- national holidays -------------------------------------------------------------


@pytest.mark.parametrize(("day", "weekday"), SPECIAL_DAYS_2024_2027)
def test_special_day_in_reference_table_is_a_national_holiday(
    day: date, weekday: str
) -> None:
    assert day.strftime("%a") == weekday
    assert is_national_holiday(day) is True


@pytest.mark.parametrize(("day", "weekday"), SPECIAL_DAYS_2024_2027)
def test_special_day_in_reference_table_is_not_a_business_day(
    day: date, weekday: str
) -> None:
    assert is_business_day(day) is False


@pytest.mark.parametrize(
    ("year", "count"), [(2024, 21), (2025, 19), (2026, 18), (2027, 17)]
)
def test_number_of_national_holidays_per_year_matches_reference(
    year: int, count: int
) -> None:
    assert sum(is_national_holiday(d) for d in _days_of(year)) == count


@pytest.mark.parametrize(
    "day",
    [date(2019, 4, 30), date(2019, 5, 1), date(2019, 5, 2), date(2019, 10, 22)],
)
def test_2019_imperial_accession_days_are_national_holidays(day: date) -> None:
    assert is_national_holiday(day) is True


@pytest.mark.parametrize(
    "day",
    [date(2025, 12, 29), date(2025, 12, 31), date(2026, 1, 2), date(2026, 1, 3)],
)
def test_year_end_closure_days_are_not_national_holidays(day: date) -> None:
    assert is_national_holiday(day) is False


def test_new_years_day_is_a_national_holiday() -> None:
    assert is_national_holiday(date(2026, 1, 1)) is True


def test_ordinary_weekday_is_not_a_national_holiday() -> None:
    assert is_national_holiday(date(2026, 6, 10)) is False


def test_national_holiday_accepts_a_datetime_judged_in_jst() -> None:
    # 2026-09-21T16:00Z is 2026-09-22 01:00 JST, the 国民の休日.
    assert is_national_holiday(datetime(2026, 9, 21, 16, 0, tzinfo=UTC)) is True


# --- business days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 10), True),  # Wednesday
        (date(2026, 6, 13), False),  # Saturday
        (date(2026, 6, 14), False),  # Sunday
        (date(2025, 12, 26), True),  # last business day of 2025
        (date(2025, 12, 29), False),  # Monday, 行政機関の休日
        (date(2025, 12, 30), False),  # Tuesday, 行政機関の休日
        (date(2025, 12, 31), False),  # Wednesday, 行政機関の休日
        (date(2026, 1, 1), False),  # Thursday, 元日
        (date(2026, 1, 2), False),  # Friday, 行政機関の休日
        (date(2026, 1, 5), True),  # first business day of 2026
        (date(2026, 12, 28), True),  # Monday before the closure
        (date(2027, 1, 4), True),  # Monday after the closure
        (date(2027, 1, 1), False),  # Friday, 元日
        (date(2024, 1, 3), False),  # Wednesday, 行政機関の休日
    ],
)
def test_is_business_day_excludes_weekends_holidays_and_year_end_closure(
    day: date, expected: bool
) -> None:
    assert is_business_day(day) is expected


def test_is_business_day_judges_a_utc_datetime_by_its_jst_date() -> None:
    # Sunday 2026-01-04 15:00Z is Monday 2026-01-05 00:00 JST.
    assert is_business_day(datetime(2026, 1, 4, 15, 0, tzinfo=UTC)) is True
    assert is_business_day(datetime(2026, 1, 4, 14, 59, tzinfo=UTC)) is False


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 10), date(2026, 6, 10)),  # business day: itself
        (date(2026, 6, 13), date(2026, 6, 15)),  # Saturday → Monday
        (date(2026, 6, 14), date(2026, 6, 15)),  # Sunday → Monday
        (date(2025, 12, 29), date(2026, 1, 5)),  # closure → first day of 2026
        (date(2026, 5, 2), date(2026, 5, 7)),  # Golden Week 2026
        (date(2026, 9, 19), date(2026, 9, 24)),  # Silver Week 2026 (9/19–9/23)
    ],
)
def test_next_business_day_returns_the_day_itself_or_the_next_business_day(
    day: date, expected: date
) -> None:
    assert next_business_day(day) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        # Across a weekend.
        (date(2026, 6, 12), 1, date(2026, 6, 15)),  # Fri + 1 = Mon
        (date(2026, 6, 12), 5, date(2026, 6, 19)),  # Fri + 5 = next Fri
        (date(2026, 6, 13), 1, date(2026, 6, 15)),  # Sat + 1 = Mon
        (date(2026, 6, 10), 2, date(2026, 6, 12)),  # Wed + 2 = Fri
        # Golden Week 2025: 4/29 Tue, 5/3–5/6 (5/6 振替休日).
        (date(2025, 4, 28), 1, date(2025, 4, 30)),
        (date(2025, 5, 2), 1, date(2025, 5, 7)),
        (date(2025, 5, 1), 2, date(2025, 5, 7)),
        # Golden Week 2026: 4/29 Wed, 5/3–5/6 (5/6 振替休日).
        (date(2026, 4, 28), 1, date(2026, 4, 30)),
        (date(2026, 4, 30), 1, date(2026, 5, 1)),
        (date(2026, 5, 1), 1, date(2026, 5, 7)),
        (date(2026, 4, 30), 2, date(2026, 5, 7)),
        # Year-end closure (12/29–1/3), even on weekdays.
        (date(2025, 12, 26), 1, date(2026, 1, 5)),
        (date(2025, 12, 26), 2, date(2026, 1, 6)),
        (date(2026, 12, 28), 1, date(2027, 1, 4)),
        (date(2025, 12, 30), 1, date(2026, 1, 5)),
    ],
)
def test_add_business_days_skips_weekends_holidays_and_closure(
    day: date, n: int, expected: date
) -> None:
    assert add_business_days(day, n) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 6, 10), date(2026, 6, 10)),
        (date(2026, 6, 13), date(2026, 6, 15)),
        (date(2026, 5, 3), date(2026, 5, 7)),
    ],
)
def test_add_zero_business_days_returns_next_business_day(
    day: date, expected: date
) -> None:
    assert add_business_days(day, 0) == expected


def test_add_business_days_rejects_negative_n() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        add_business_days(date(2026, 6, 10), -1)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2026, 6, 10), date(2026, 6, 10), 0),  # same day
        (date(2026, 6, 10), date(2026, 6, 9), 0),  # end before start
        (date(2026, 6, 10), date(2026, 6, 11), 1),
        (date(2026, 6, 12), date(2026, 6, 15), 1),  # Fri → Mon
        (date(2026, 6, 12), date(2026, 6, 14), 0),  # Fri → Sun
        (date(2026, 6, 13), date(2026, 6, 15), 1),  # Sat → Mon
        (date(2026, 4, 30), date(2026, 5, 7), 2),  # Golden Week 2026
        (date(2025, 12, 26), date(2026, 1, 5), 1),  # year-end closure
        (
            date(2025, 3, 31),
            date(2025, 4, 30),
            21,
        ),  # April 2025: 22 weekdays − 昭和の日
    ],
)
def test_business_days_between_counts_days_after_start_up_to_end(
    start: date, end: date, expected: int
) -> None:
    assert business_days_between(start, end) == expected


@pytest.mark.parametrize(
    "start",
    [date(2025, 4, 25), date(2025, 12, 20), date(2026, 4, 29), date(2026, 9, 18)],
)
@pytest.mark.parametrize("n", [1, 2, 5, 10, 30])
def test_business_days_between_inverts_add_business_days(start: date, n: int) -> None:
    assert business_days_between(start, add_business_days(start, n)) == n


# --- local date and fiscal year ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 3, 31, 15, 0, tzinfo=UTC), date(2026, 4, 1)),
        (datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC), date(2026, 3, 31)),
        (datetime(2026, 4, 1, 0, 30, tzinfo=JST), date(2026, 4, 1)),
        (datetime(2026, 3, 31, 23, 30), date(2026, 3, 31)),  # noqa: DTZ001 naive=JST
        (
            datetime(2026, 3, 31, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
            date(2026, 4, 1),
        ),
        (date(2026, 3, 31), date(2026, 3, 31)),
    ],
)
def test_local_date_is_the_date_in_tokyo(value: date, expected: date) -> None:
    result = local_date(value)
    assert result == expected
    assert type(result) is date


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2026, 3, 31), 2025),
        (date(2026, 4, 1), 2026),
        (date(2026, 1, 1), 2025),
        (date(2025, 12, 31), 2025),
        (date(2025, 4, 1), 2025),
        (datetime(2026, 3, 31, 23, 30, tzinfo=JST), 2025),
        (datetime(2026, 4, 1, 0, 30, tzinfo=JST), 2026),
        (datetime(2026, 3, 31, 15, 30, tzinfo=UTC), 2026),  # 04-01 00:30 JST
        (datetime(2026, 3, 31, 14, 59, 59, tzinfo=UTC), 2025),  # 03-31 23:59:59 JST
        (datetime(2026, 3, 31, 23, 30), 2025),  # noqa: DTZ001 naive = JST
        (datetime(2026, 4, 1, 0, 0), 2026),  # noqa: DTZ001 naive = JST
    ],
)
def test_fiscal_year_switches_on_april_first_in_jst(value: date, expected: int) -> None:
    assert fiscal_year(value) == expected


def test_fiscal_year_bounds_run_from_april_first_to_march_thirty_first() -> None:
    assert fiscal_year_bounds(2025) == (date(2025, 4, 1), date(2026, 3, 31))


def test_fiscal_year_bounds_include_february_twenty_ninth_of_a_leap_year() -> None:
    start, end = fiscal_year_bounds(2027)
    assert (start, end) == (date(2027, 4, 1), date(2028, 3, 31))
    assert start < date(2028, 2, 29) < end


def test_fiscal_year_datetime_bounds_are_half_open_jst_midnights() -> None:
    start, end = fiscal_year_datetime_bounds(2025)
    assert start == datetime(2025, 4, 1, 0, 0, tzinfo=JST)
    assert end == datetime(2026, 4, 1, 0, 0, tzinfo=JST)
    assert start.utcoffset() == timedelta(hours=9)
    assert start.astimezone(UTC) == datetime(2025, 3, 31, 15, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)


def test_fiscal_year_datetime_bounds_agree_with_fiscal_year() -> None:
    start, end = fiscal_year_datetime_bounds(2025)
    assert fiscal_year(start) == 2025
    assert fiscal_year(end - timedelta(microseconds=1)) == 2025
    assert fiscal_year(end) == 2026


# --- eras (和暦) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2026, 11, 21), "令和8年11月21日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1868, 10, 23), "明治元年10月23日"),
    ],
)
def test_wareki_date_uses_the_era_in_force_and_gannen(day: date, expected: str) -> None:
    assert wareki_date(day) == expected


def test_wareki_date_rejects_dates_before_meiji() -> None:
    with pytest.raises(ValueError, match="before the 明治 era"):
        wareki_date(date(1868, 10, 22))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((2019,), ("令和", 1)),
        ((2019, 4, 30), ("平成", 31)),
        ((2019, 5, 1), ("令和", 1)),
        ((2025,), ("令和", 7)),
        ((1989,), ("平成", 1)),
        ((1989, 1, 7), ("昭和", 64)),
        ((1926,), ("昭和", 1)),
        ((1912,), ("大正", 1)),
    ],
)
def test_era_year_defaults_to_the_last_day_of_the_year(
    args: tuple[int, ...], expected: tuple[str, int]
) -> None:
    assert era_year(*args) == expected


@pytest.mark.parametrize(
    ("fy", "expected"),
    [
        (2025, "令和7年度"),
        (2020, "令和2年度"),
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        (1988, "昭和63年度"),
        (1926, "昭和元年度"),
    ],
)
def test_fiscal_year_wareki_label_names_the_era_of_the_fiscal_year(
    fy: int, expected: str
) -> None:
    assert fiscal_year_wareki_label(fy) == expected


def test_fiscal_year_wareki_label_follows_the_calendar_year_rule() -> None:
    # The agreed rule: 令和 from FY2019, 平成 from FY1989, 昭和 from FY1926.
    def expected(fy: int) -> str:
        if fy >= 2019:
            era, number = "令和", fy - 2018
        elif fy >= 1989:
            era, number = "平成", fy - 1988
        else:
            era, number = "昭和", fy - 1925
        return f"{era}{'元' if number == 1 else number}年度"

    mismatches = {
        fy: fiscal_year_wareki_label(fy)
        for fy in range(1926, 2101)
        if fiscal_year_wareki_label(fy) != expected(fy)
    }
    assert mismatches == {}


@pytest.mark.parametrize(
    ("fy", "expected"),
    [
        (2025, "2025年度（令和7年度）"),
        (2019, "2019年度（令和元年度）"),
        (2018, "2018年度（平成30年度）"),
    ],
)
def test_fiscal_year_label_combines_gregorian_and_era(fy: int, expected: str) -> None:
    assert fiscal_year_label(fy) == expected


def test_fiscal_year_short_label_is_gregorian_only() -> None:
    assert fiscal_year_short_label(2025) == "2025年度"
