"""Reading the cells of an imported 相談記録 file: dates, times, durations, lists.

Agencies keep years of consultations in Excel, typed by hand: 西暦 and 和暦
dates in every spelling, full-width digits, durations as 「1時間30分」. These
functions turn one cell into a value or raise ``ValueError`` with a Japanese
reason, so the import's dry run can report the line and field. Pure Python,
no Django (the era table is support_network.calendar's, reference/calendar.md
§4).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta

from support_network.calendar import ERAS, wareki_date

__all__ = [
    "HEADER_FIELDS",
    "IMPORT_FIELDS",
    "choice_list_parse",
    "date_parse",
    "duration_parse",
    "header_field",
    "headers_map",
    "text_clean",
    "time_parse",
]

# The fields an import maps (API.md "Bringing history in").
IMPORT_FIELDS = (
    "corporate_number",
    "company_name",
    "company_kana",
    "prefecture",
    "occurred_on",
    "occurred_at",
    "channel",
    "duration_minutes",
    "topics",
    "ip_types",
    "summary",
    "advice",
    "next_action",
    "follow_up_on",
    "staff",
)

# Column headers agencies use, normalised by `_header_key`, and their field.
HEADER_FIELDS: dict[str, str] = {
    "法人番号": "corporate_number",
    "会社法人番号": "corporate_number",
    "企業名": "company_name",
    "事業者名": "company_name",
    "会社名": "company_name",
    "企業等名": "company_name",
    "相談者名": "company_name",
    "名称": "company_name",
    "企業名カナ": "company_kana",
    "企業名フリガナ": "company_kana",
    "フリガナ": "company_kana",
    "カナ": "company_kana",
    "都道府県": "prefecture",
    "所在地": "prefecture",
    "所在都道府県": "prefecture",
    "日付": "occurred_on",
    "相談日": "occurred_on",
    "相談年月日": "occurred_on",
    "対応日": "occurred_on",
    "年月日": "occurred_on",
    "時刻": "occurred_at",
    "相談時刻": "occurred_at",
    "開始時刻": "occurred_at",
    "時間帯": "occurred_at",
    "相談方法": "channel",
    "相談形態": "channel",
    "対応方法": "channel",
    "所要時間": "duration_minutes",
    "相談時間": "duration_minutes",
    "時間": "duration_minutes",
    "対応時間": "duration_minutes",
    "相談分野": "topics",
    "分野": "topics",
    "相談区分": "topics",
    "知財の種類": "ip_types",
    "知的財産の種類": "ip_types",
    "権利種別": "ip_types",
    "内容": "summary",
    "相談内容": "summary",
    "相談概要": "summary",
    "概要": "summary",
    "助言内容": "advice",
    "助言": "advice",
    "回答内容": "advice",
    "次のアクション": "next_action",
    "今後の対応": "next_action",
    "フォローアップ日": "follow_up_on",
    "フォロー日": "follow_up_on",
    "次回予定日": "follow_up_on",
    "担当者": "staff",
    "担当": "staff",
    "対応者": "staff",
}

_SPACES = re.compile(r"[\s\u3000]+")
_HEADER_NOISE = re.compile(r"[()（）\[\]【】「」:：*※]")


def _header_key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header or "")
    return _HEADER_NOISE.sub("", _SPACES.sub("", text)).strip()


# A unit or note in brackets after a header: 所要時間（分）, 相談日(和暦).
_HEADER_NOTE = re.compile(r"[(\[【].*?[)\]】]")


def header_field(header: str) -> str | None:
    """Return the field a column header names, or None when unrecognised."""
    text = unicodedata.normalize("NFKC", header or "")
    key = _header_key(_HEADER_NOTE.sub("", text))
    if key in IMPORT_FIELDS:
        return key
    return HEADER_FIELDS.get(key)


def headers_map(
    headers: Iterable[str], remembered: Mapping[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Return ({header: field} recognised, [unrecognised headers]).

    `remembered` (the organisation's earlier mapping, or the one the user
    gave) wins over the built-in names; a field "" there means "skip this
    column". Blank headers are ignored.
    """
    remembered = remembered or {}
    mapping: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        if not header or not str(header).strip():
            continue
        header = str(header).strip()
        if header in remembered:
            if remembered[header]:
                mapping[header] = remembered[header]
            continue
        field = header_field(header)
        if field is None:
            unknown.append(header)
        else:
            mapping[header] = field
    return mapping, unknown


def text_clean(value: object) -> str:
    """Return a cell as stripped text ("" for an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


# --- dates -------------------------------------------------------------

# Excel's day 0 is 1899-12-30 (the 1900 leap-year bug makes 60 = 1900-02-29).
_EXCEL_EPOCH = date(1899, 12, 30)
# Serials a consultation can have: 1990-01-01 … 2099-12-31.
_EXCEL_SERIAL_MIN = 32874
_EXCEL_SERIAL_MAX = 73050

_ERA_LETTERS = {"R": "令和", "H": "平成", "S": "昭和", "T": "大正", "M": "明治"}
_ERA_START = {name: start for start, name in ERAS}
# The day after each era ended (the next era's first day), by name.
_ERA_END = {name: ERAS[i - 1][0] for i, (_start, name) in enumerate(ERAS) if i > 0}

_SEIREKI = re.compile(r"^(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?$")
_SEIREKI_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_WAREKI = re.compile(
    r"^(令和|平成|昭和|大正|明治|[RHSTM])\s*(\d{1,2}|元)\s*[/\-.年]\s*(\d{1,2})"
    r"\s*[/\-.月]\s*(\d{1,2})\s*日?$"
)
# A date cell may carry a time after it: "2024/4/1 10:30", "令和6年4月1日 10時30分".
_TRAILING_TIME = re.compile(r"^(.*?\d\s*日?)\s+(\d{1,2}\s*[:時].*)$")


def _date_or_error(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError("存在しない日付です。") from None


def _wareki_date(era: str, era_year: int, month: int, day: int) -> date:
    if era_year < 1:
        raise ValueError("和暦の年が正しくありません。")
    start = _ERA_START[era]
    result = _date_or_error(start.year + era_year - 1, month, day)
    if result < start:
        raise ValueError(
            f"{era}{'元' if era_year == 1 else era_year}年{month}月{day}日は"
            f"{era}の始まり（{start.year}年{start.month}月{start.day}日）より前です。"
        )
    end = _ERA_END.get(era)
    if end is not None and result >= end:
        last = end - timedelta(days=1)
        raise ValueError(
            f"{era}は{last.year}年{last.month}月{last.day}日までです"
            f"（{result.year}年{result.month}月{result.day}日は"
            f"{wareki_date(result)}です）。"
        )
    return result


def _excel_serial(number: float) -> date:
    if not _EXCEL_SERIAL_MIN <= number <= _EXCEL_SERIAL_MAX:
        raise ValueError("日付として読めない数値です。")
    return _EXCEL_EPOCH + timedelta(days=int(number))


def date_parse(value: object) -> date:
    """Return the date in a cell: 西暦, 和暦, an Excel serial or a datetime.

    Raises ValueError with a Japanese reason. A time after the date is
    ignored here (`time_parse` reads it).
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("日付として読めません。")
    if isinstance(value, int | float):
        return _excel_serial(float(value))
    text = _nfkc(text_clean(value))
    if not text:
        raise ValueError("日付が空です。")
    match = _TRAILING_TIME.match(text)
    if match:
        text = match.group(1).strip()
    text = text.upper() if text[:1].isascii() else text
    if re.fullmatch(r"\d+(\.\d+)?", text):
        if len(text) == 8:
            m = _SEIREKI_COMPACT.match(text)
            assert m is not None
            return _date_or_error(*(int(g) for g in m.groups()))
        return _excel_serial(float(text))
    m = _SEIREKI.match(text)
    if m:
        return _date_or_error(*(int(g) for g in m.groups()))
    m = _WAREKI.match(text)
    if m:
        era = _ERA_LETTERS.get(m.group(1), m.group(1))
        era_year = 1 if m.group(2) == "元" else int(m.group(2))
        return _wareki_date(era, era_year, int(m.group(3)), int(m.group(4)))
    raise ValueError("日付として読めません（例: 2024/4/1、令和6年4月1日、R6.4.1）。")


# --- times ---------------------------------------------------------------

_TIME = re.compile(r"^(午前|午後|AM|PM)?\s*(\d{1,2})\s*(?:[:時]\s*(\d{1,2})?\s*分?)?$")


def time_parse(value: object) -> time | None:
    """Return the time in a cell, or None for an empty one.

    Accepts 10:30, 10:30:00, 10時30分, 10時, 午後2時, an Excel fraction of a
    day (0.4375) and a datetime; a date before the time is skipped.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value < 1:
            raise ValueError("時刻として読めない数値です。")
        minutes = round(value * 24 * 60)
        return time(minutes // 60 % 24, minutes % 60)
    text = _nfkc(text_clean(value)).upper()
    if not text:
        return None
    match = _TRAILING_TIME.match(text)
    if match:
        text = match.group(2).strip()
    text = re.sub(r"(\d{1,2}:\d{2}):\d{2}$", r"\1", text)
    m = _TIME.match(text)
    if not m:
        raise ValueError("時刻として読めません（例: 10:30、10時30分）。")
    hour, minute = int(m.group(2)), int(m.group(3) or 0)
    if m.group(1) in ("午後", "PM") and hour < 12:
        hour += 12
    if m.group(1) in ("午前", "AM") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        raise ValueError("存在しない時刻です。")
    return time(hour, minute)


# --- durations -----------------------------------------------------------

_DURATION = re.compile(
    r"^(?:(\d+(?:\.\d+)?)\s*(?:時間|H|HR|HRS|HOURS?))?\s*"
    r"(?:(\d+)\s*(?:分|M|MIN|MINS|MINUTES?))?$"
)


def duration_parse(value: object) -> int:
    """Return minutes from 「1時間30分」, 「90分」, 「1.5時間」, 1:30 or a plain number."""
    if isinstance(value, bool):
        raise ValueError("所要時間として読めません。")
    if isinstance(value, int | float):
        if value != int(value) or value < 0:
            raise ValueError("所要時間は分の整数で入力してください。")
        return int(value)
    text = _nfkc(text_clean(value)).upper().replace(" ", "")
    if not text:
        raise ValueError("所要時間が空です。")
    if re.fullmatch(r"\d+", text):
        return int(text)
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if m:
        return int(m.group(1)) * 60 + int(m.group(2))
    m = _DURATION.match(text)
    if m and (m.group(1) or m.group(2)):
        minutes = float(m.group(1) or 0) * 60 + int(m.group(2) or 0)
        if minutes != int(minutes):
            raise ValueError("所要時間は分単位で入力してください。")
        return int(minutes)
    raise ValueError("所要時間として読めません（例: 90、90分、1時間30分、1.5時間）。")


# --- choices (topics, IP types, channels) -------------------------------

_LIST_SEPARATORS = re.compile(r"[、,，/／・;；\n]+")


def choice_list_parse(value: object, choices: Mapping[str, str]) -> list[str]:
    """Return the slugs of a list cell: slugs or labels separated by 、 , / ・.

    `choices` maps slug → label. Raises ValueError naming what is unknown.
    """
    text = _nfkc(text_clean(value))
    if not text:
        return []
    by_key = _choice_keys(tuple((slug, str(label)) for slug, label in choices.items()))
    slugs: list[str] = []
    unknown: list[str] = []
    for part in _LIST_SEPARATORS.split(text):
        part = part.strip()
        if not part:
            continue
        slug = by_key.get(_header_key(part).upper())
        if slug is None:
            # A label made of two parts ("侵害・紛争", "知財管理・知財経営").
            unknown.append(part)
        elif slug not in slugs:
            slugs.append(slug)
    if unknown:
        # Rejoin neighbours split on ・ that form a label together.
        rejoined = _rejoin_labels(text, by_key)
        if rejoined is not None:
            return rejoined
        raise ValueError("読めない値があります: " + "、".join(unknown))
    return slugs


@functools.lru_cache(maxsize=32)
def _choice_keys(choices: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Return {spelling: slug} for a choice list (read once per list, not per cell)."""
    by_key: dict[str, str] = {}
    for slug, label in choices:
        by_key[slug.upper()] = slug
        by_key[_header_key(label).upper()] = slug
    return by_key


def _rejoin_labels(text: str, by_key: Mapping[str, str]) -> list[str] | None:
    slugs: list[str] = []
    for part in re.split(r"[、,，/／;；\n]+", text):
        part = part.strip()
        if not part:
            continue
        slug = by_key.get(_header_key(part).upper())
        if slug is None:
            for piece in part.split("・"):
                piece_slug = by_key.get(_header_key(piece).upper())
                if piece_slug is None:
                    return None
                if piece_slug not in slugs:
                    slugs.append(piece_slug)
        elif slug not in slugs:
            slugs.append(slug)
    return slugs
