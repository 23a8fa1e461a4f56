"""The cell readers of the 相談記録 import (crm.rules.import_values)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from crm.rules.import_values import (
    choice_list_parse,
    date_parse,
    duration_parse,
    header_field,
    headers_map,
    time_parse,
)

TOPICS = {"patent": "特許", "trademark": "商標", "infringement": "侵害・紛争"}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024/4/1", date(2024, 4, 1)),
        ("2024-04-01", date(2024, 4, 1)),
        ("2024.4.1", date(2024, 4, 1)),
        ("2024年4月1日", date(2024, 4, 1)),
        ("２０２４年４月１日", date(2024, 4, 1)),
        ("20240401", date(2024, 4, 1)),
        ("令和6年4月1日", date(2024, 4, 1)),
        ("令和６年４月１日", date(2024, 4, 1)),
        ("R6.4.1", date(2024, 4, 1)),
        ("r6.4.1", date(2024, 4, 1)),
        ("Ｒ６．４．１", date(2024, 4, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("2024/4/1 10:30", date(2024, 4, 1)),
        ("令和6年4月1日 10時30分", date(2024, 4, 1)),
        (45383, date(2024, 4, 1)),  # Excel serial
        (45383.4375, date(2024, 4, 1)),
        ("45383", date(2024, 4, 1)),
        (datetime(2024, 4, 1, 10, 30), date(2024, 4, 1)),  # noqa: DTZ001 (openpyxl)
        (date(2024, 4, 1), date(2024, 4, 1)),
    ],
)
def test_dates_are_read_in_every_spelling(cell, expected):
    assert date_parse(cell) == expected


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("平成31年5月1日", "令和元年5月1日"),  # the day after 平成 ended
        ("H31.5.1", "平成は2019年4月30日まで"),
        ("令和元年4月30日", "令和の始まり"),  # the day before 令和 began
        ("昭和64年1月8日", "平成元年1月8日"),
        ("平成元年1月7日", "平成の始まり"),
        ("2024/2/30", "存在しない日付"),
        ("2023/2/29", "存在しない日付"),
        ("令和0年4月1日", "和暦の年"),
        ("来週", "日付として読めません"),
        ("", "日付が空"),
        (12, "日付として読めない数値"),
        (True, "日付として読めません"),
    ],
)
def test_impossible_dates_are_refused_with_a_reason(cell, reason):
    with pytest.raises(ValueError, match=reason):
        date_parse(cell)


def test_leap_day_is_read():
    assert date_parse("令和6年2月29日") == date(2024, 2, 29)


def test_excel_serial_range_edges():
    assert date_parse(32874) == date(1990, 1, 1)
    with pytest.raises(ValueError):
        date_parse(32873)
    assert date_parse(73050) == date(2099, 12, 31)
    with pytest.raises(ValueError):
        date_parse(73051)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (None, None),
        ("", None),
        ("10:30", time(10, 30)),
        ("10:30:00", time(10, 30)),
        ("１０：３０", time(10, 30)),
        ("10時30分", time(10, 30)),
        ("10時", time(10, 0)),
        ("午後2時", time(14, 0)),
        ("午前12時", time(0, 0)),
        ("PM 1:05", time(13, 5)),
        ("23:59", time(23, 59)),
        ("0:00", time(0, 0)),
        (0.4375, time(10, 30)),
        (time(9, 15, 20), time(9, 15)),
        ("2024/4/1 10:30", time(10, 30)),
    ],
)
def test_times_are_optional_and_read(cell, expected):
    assert time_parse(cell) == expected


@pytest.mark.parametrize("cell", ["24:00", "10:60", "朝", 1.5, -0.1])
def test_impossible_times_are_refused(cell):
    with pytest.raises(ValueError):
        time_parse(cell)


@pytest.mark.parametrize(
    ("cell", "minutes"),
    [
        ("1時間30分", 90),
        ("１時間３０分", 90),
        ("90分", 90),
        ("1.5時間", 90),
        ("2時間", 120),
        ("90", 90),
        (90, 90),
        (90.0, 90),
        ("1:30", 90),
        ("45 min", 45),
        ("0分", 0),
    ],
)
def test_durations_are_read_as_minutes(cell, minutes):
    assert duration_parse(cell) == minutes


@pytest.mark.parametrize("cell", ["", "長め", "1.33時間", 90.5, -5, "時間"])
def test_unreadable_durations_are_refused(cell):
    with pytest.raises(ValueError):
        duration_parse(cell)


@pytest.mark.parametrize(
    ("cell", "slugs"),
    [
        ("特許", ["patent"]),
        ("特許、商標", ["patent", "trademark"]),
        ("patent,trademark", ["patent", "trademark"]),
        ("特許/商標", ["patent", "trademark"]),
        ("特許・商標", ["patent", "trademark"]),
        ("特許，商標", ["patent", "trademark"]),
        ("侵害・紛争", ["infringement"]),
        ("特許、侵害・紛争", ["patent", "infringement"]),
        ("特許、特許", ["patent"]),
        ("PATENT", ["patent"]),
        ("", []),
    ],
)
def test_topic_lists_take_slugs_or_labels(cell, slugs):
    assert choice_list_parse(cell, TOPICS) == slugs


def test_unknown_topic_is_named():
    with pytest.raises(ValueError, match="読めない値があります: 宇宙"):
        choice_list_parse("特許、宇宙", TOPICS)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("日付", "occurred_on"),
        ("相談日", "occurred_on"),
        ("企業名", "company_name"),
        ("事業者名", "company_name"),
        ("法人番号", "corporate_number"),
        ("都道府県", "prefecture"),
        ("相談方法", "channel"),
        ("相談分野", "topics"),
        ("内容", "summary"),
        ("相談内容", "summary"),
        ("担当者", "staff"),
        (" 相談日 ", "occurred_on"),
        ("相談日（和暦）", "occurred_on"),
        ("所要時間（分）", "duration_minutes"),
        ("summary", "summary"),
        ("備考", None),
    ],
)
def test_headers_are_recognised(header, field):
    assert header_field(header) == field


def test_remembered_mapping_wins_and_blank_skips():
    mapping, unknown = headers_map(
        ["相談日", "備考", "整理番号", "", "内容"],
        remembered={"備考": "advice", "内容": ""},
    )
    assert mapping == {"相談日": "occurred_on", "備考": "advice"}
    assert unknown == ["整理番号"]
