"""Checking an import file's rows (the dry run's and the commit's).

`rows_checked` turns the rows `crm.services.import_files.file_rows` streams
into `RowChecked`: the parsed values, or errors by field, checked with
the same rules the services apply to a typed entry
(`consultation_fields_validate`, `corporate_number_clean`, `company_validate`),
and the company each row belongs to (matched by 法人番号, else normalised name
+ prefecture, else new). Rows are handled in chunks so memory stays constant
whatever the file's length.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.choices import Channel, CompanyKind, IpType, Topic
from crm.models import Company, Consultation
from crm.rules.import_values import (
    choice_list_parse,
    date_parse,
    duration_parse,
    headers_map,
    text_clean,
    time_parse,
)
from crm.rules.names import name_key, normalise_name
from crm.services.companies import company_validate, corporate_number_clean
from crm.services.consultations import consultation_fields_validate
from support_network.calendar import JST
from support_network.errors import ValidationFailed
from support_network.models import Membership, Organisation, Prefecture

# Rows read, matched and written together.
CHUNK_ROWS = 1000
# A consultation with no time in the file is put at this hour (JST).
DEFAULT_TIME = time(9, 0)
# Texts at least this similar (difflib ratio) make a likely duplicate.
DUPLICATE_SIMILARITY = 0.8

# Fields a file must have a column for; the rest are optional.
REQUIRED_FIELDS = (
    "company_name",
    "occurred_on",
    "channel",
    "duration_minutes",
    "topics",
    "summary",
)

# Ways a 相談方法 is written besides the labels (来所, 電話, オンライン, メール, 訪問).
CHANNEL_WORDS = {
    "来訪": Channel.VISIT,
    "窓口": Channel.VISIT,
    "対面": Channel.VISIT,
    "TEL": Channel.PHONE,
    "WEB": Channel.ONLINE,
    "ウェブ": Channel.ONLINE,
    "ZOOM": Channel.ONLINE,
    "TEAMS": Channel.ONLINE,
    "E-MAIL": Channel.EMAIL,
    "EMAIL": Channel.EMAIL,
    "MAIL": Channel.EMAIL,
    "出張": Channel.ONSITE,
    "出張相談": Channel.ONSITE,
}
# The service's field names where the import's differ.
_SERVICE_FIELDS = {"occurred_at": "occurred_on", "name": "company_name"}
_LEGAL_FORMS = (
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "(株)",
    "(有)",
)


@dataclass
class RowChecked:
    """One data row: its values when valid, else its errors by field."""

    line: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    # ("number", 法人番号) or ("name", name_key, prefecture code): the company.
    company_key: tuple | None = None
    company_id: int | None = None  # an existing company
    match: str = ""  # "corporate_number", "name" or "new"
    duplicate_of: int | None = None  # a consultation already recorded

    @property
    def is_valid(self) -> bool:
        return not self.errors


def mapping_check(mapping: Mapping[str, str]) -> list[dict[str, Any]]:
    """Return a file-level error for each required field no column maps to."""
    from crm.rules.import_values import IMPORT_FIELDS

    labels = field_labels()
    errors = []
    bad = sorted({f for f in mapping.values() if f and f not in IMPORT_FIELDS})
    for name in bad:
        errors.append(
            {"line": 1, "field": name, "message": _("取込できない項目名です。")}
        )
    mapped = set(mapping.values())
    for name in REQUIRED_FIELDS:
        if name not in mapped:
            errors.append(
                {
                    "line": 1,
                    "field": name,
                    "message": _(
                        "「%(label)s」の列がありません。列の対応を指定してください。"
                    )
                    % {"label": labels[name]},
                }
            )
    return errors


def field_labels() -> dict[str, str]:
    """Return the Japanese label of each import field (report, mapping screen)."""
    return {
        "corporate_number": _("法人番号"),
        "company_name": _("企業名"),
        "company_kana": _("企業名カナ"),
        "prefecture": _("都道府県"),
        "occurred_on": _("相談日"),
        "occurred_at": _("時刻"),
        "channel": _("相談方法"),
        "duration_minutes": _("所要時間"),
        "topics": _("相談分野"),
        "ip_types": _("知財の種類"),
        "summary": _("相談内容"),
        "advice": _("助言内容"),
        "next_action": _("次のアクション"),
        "follow_up_on": _("フォローアップ日"),
        "staff": _("担当者"),
    }


def headers_resolve(
    headers: Iterable[str], given: Mapping[str, str] | None
) -> tuple[dict[str, str], list[str]]:
    """Return the mapping used and the headers left unrecognised."""
    return headers_map(headers, given)


# --- checking rows -------------------------------------------------------


class _Lookups:
    """Reference data a check needs, read once per import."""

    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation
        self.prefectures: dict[str, str] = {}
        for pref in Prefecture.objects.all():
            self.prefectures[pref.code] = pref.code
            self.prefectures[str(int(pref.code))] = pref.code
            self.prefectures[pref.name] = pref.code
            short = pref.name[:-1] if pref.name[-1] in "都府県" else pref.name
            self.prefectures.setdefault(short, pref.code)
        self.staff: dict[str, int | None] = {}
        with translation.override("ja"):
            self.channels = {c.value: str(c.label) for c in Channel}
            self.topics = {c.value: str(c.label) for c in Topic}
            self.ip_types = {c.value: str(c.label) for c in IpType}

    def prefecture(self, value: Any) -> str | None:
        text = unicodedata.normalize("NFKC", text_clean(value)).strip()
        if not text:
            return None
        if text.isdigit():
            text = str(int(text))
        code = self.prefectures.get(text)
        if code is None:
            # An address: 東京都千代田区… starts with the prefecture.
            for name, pref_code in self.prefectures.items():
                if len(name) >= 3 and text.startswith(name):
                    return pref_code
        return code

    def membership_id(self, username: str) -> int | None:
        if username not in self.staff:
            self.staff[username] = (
                Membership.objects.filter(
                    organisation=self.organisation,
                    user__username=username,
                    user__is_active=True,
                    is_active=True,
                )
                .values_list("pk", flat=True)
                .first()
            )
        return self.staff[username]


def _channel(value: Any, lookups: _Lookups) -> str:
    text = unicodedata.normalize("NFKC", text_clean(value)).strip().upper()
    if text in CHANNEL_WORDS:
        return str(CHANNEL_WORDS[text])
    slugs = choice_list_parse(value, lookups.channels)
    if len(slugs) != 1:
        raise ValueError(
            _("相談方法を1つ指定してください（来所、電話、オンライン、メール、訪問）。")
        )
    return slugs[0]


def _company_kind(name: str, number: str | None) -> str:
    normalised = normalise_name(name)
    if number or any(form in normalised for form in _LEGAL_FORMS):
        return CompanyKind.CORPORATION
    return CompanyKind.OTHER


def _row_check(
    line: int, cells: Mapping[str, Any], lookups: _Lookups, today: date
) -> RowChecked:
    row = RowChecked(line=line)

    def fail(name: str, message: str) -> None:
        row.errors.append({"line": line, "field": name, "message": str(message)})

    def parse(name: str, parser, *args):
        try:
            return parser(cells.get(name), *args)
        except ValueError as exc:
            fail(name, str(exc))
            return None

    v = row.values
    # The company.
    try:
        v["corporate_number"] = corporate_number_clean(
            text_clean(cells.get("corporate_number")) or None
        )
    except ValidationFailed as exc:
        fail("corporate_number", exc.detail)
        v["corporate_number"] = None
    v["company_name"] = text_clean(cells.get("company_name"))
    v["company_kana"] = text_clean(cells.get("company_kana"))
    v["prefecture"] = lookups.prefecture(cells.get("prefecture"))
    if text_clean(cells.get("prefecture")) and v["prefecture"] is None:
        fail("prefecture", _("都道府県が正しくありません（例: 東京都、13）。"))
    # The consultation.
    occurred_on = None
    raw_date = cells.get("occurred_on")
    if raw_date is None or text_clean(raw_date) == "":
        fail("occurred_on", _("相談日を入力してください。"))
    else:
        occurred_on = parse("occurred_on", date_parse)
    at = None
    if text_clean(cells.get("occurred_at")):
        at = parse("occurred_at", time_parse)
    elif isinstance(raw_date, datetime) and raw_date.time() != time(0, 0):
        at = raw_date.time()
    elif isinstance(raw_date, str) and occurred_on is not None:
        try:
            at = time_parse(raw_date) if " " in raw_date.strip() else None
        except ValueError:
            at = None
    v["channel"] = None
    if text_clean(cells.get("channel")):
        v["channel"] = parse("channel", _channel, lookups)
    else:
        fail("channel", _("相談方法を入力してください。"))
    v["duration_minutes"] = parse("duration_minutes", duration_parse)
    v["topics"] = parse("topics", choice_list_parse, lookups.topics)
    v["ip_types"] = parse("ip_types", choice_list_parse, lookups.ip_types) or []
    v["summary"] = text_clean(cells.get("summary"))
    v["advice"] = text_clean(cells.get("advice"))
    v["next_action"] = text_clean(cells.get("next_action"))
    v["follow_up_on"] = None
    if text_clean(cells.get("follow_up_on")):
        v["follow_up_on"] = parse("follow_up_on", date_parse)
    staff = text_clean(cells.get("staff"))
    v["membership_id"] = None
    if staff:
        v["membership_id"] = lookups.membership_id(staff)
        if v["membership_id"] is None:
            fail(
                "staff",
                _("担当者「%(name)s」はこの組織の有効なユーザー名ではありません。")
                % {"name": staff},
            )
    failed = {e["field"] for e in row.errors}
    # The services' own rules, on what could be read.
    if occurred_on is not None and not failed & {
        "occurred_at",
        "channel",
        "duration_minutes",
        "topics",
        "ip_types",
        "follow_up_on",
    }:
        occurred_at = datetime.combine(occurred_on, at or DEFAULT_TIME, tzinfo=JST)
        try:
            v["occurred_at"], v["occurred_on"] = consultation_fields_validate(
                occurred_at=occurred_at,
                channel=v["channel"],
                duration_minutes=v["duration_minutes"],
                topics=v["topics"] or [],
                ip_types=v["ip_types"],
                summary=v["summary"],
                follow_up_on=v["follow_up_on"],
                today=today,
            )
        except ValidationFailed as exc:
            fail(_SERVICE_FIELDS.get(exc.field, exc.field), exc.detail)
    return row


def _company_new_check(row: RowChecked, today: date) -> None:
    """Check a company the import would register, as company_create does."""
    v = row.values
    if not v["company_name"]:
        row.errors.append(
            {
                "line": row.line,
                "field": "company_name",
                "message": _("企業名を入力してください。"),
            }
        )
        return
    if v["prefecture"] is None:
        row.errors.append(
            {
                "line": row.line,
                "field": "prefecture",
                "message": _("新しい企業等の登録には都道府県が必要です。"),
            }
        )
        return
    company = Company(
        name=v["company_name"],
        name_kana=v["company_kana"],
        kind=_company_kind(v["company_name"], v["corporate_number"]),
        prefecture_id=v["prefecture"],
    )
    try:
        company_validate(company, today=today)
    except ValidationFailed as exc:
        row.errors.append(
            {
                "line": row.line,
                "field": _SERVICE_FIELDS.get(exc.field, exc.field),
                "message": exc.detail,
            }
        )


def company_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return company_create's fields for a row's new company."""
    return {
        "corporate_number": values["corporate_number"],
        "name": values["company_name"],
        "name_kana": values["company_kana"],
        "kind": _company_kind(values["company_name"], values["corporate_number"]),
        "prefecture": values["prefecture"],
    }


def _similar(a: str, b: str) -> bool:
    a = unicodedata.normalize("NFKC", "".join(a.split()))
    b = unicodedata.normalize("NFKC", "".join(b.split()))
    if not a or not b:
        return False
    if a == b or a in b or b in a:
        return True
    return difflib.SequenceMatcher(None, a, b).ratio() >= DUPLICATE_SIMILARITY


class CompanyMatcher:
    """Matches rows to companies across the whole file (法人番号, name + prefecture).

    `known` remembers every company key seen, so a company new to the system
    that appears on many rows is counted (and created) once.
    """

    def __init__(self) -> None:
        # key → existing company id, or None for a company the import adds.
        self.known: dict[tuple, int | None] = {}
        # key → {name, prefecture, corporate_number, match, company, rows}
        self.summary: dict[tuple, dict[str, Any]] = {}

    def match_chunk(self, rows: list[RowChecked], today: date) -> None:
        numbers = {
            r.values["corporate_number"]
            for r in rows
            if r.values.get("corporate_number")
            and ("number", r.values["corporate_number"]) not in self.known
        }
        by_number: dict[str, int] = {}
        if numbers:
            for number, pk, merged in Company.objects.filter(
                corporate_number__in=numbers
            ).values_list("corporate_number", "pk", "merged_into_id"):
                by_number[number] = merged or pk
        keys = {
            (name_key(r.values["company_name"]), r.values["prefecture"])
            for r in rows
            if r.values.get("company_name") and r.values.get("prefecture")
        }
        keys = {k for k in keys if ("name", *k) not in self.known}
        by_name: dict[tuple, int] = {}
        if keys:
            for key, pref, pk in (
                Company.objects.filter(
                    name_key__in={k for k, _p in keys},
                    prefecture_id__in={p for _k, p in keys},
                    merged_into=None,
                    corporate_number=None,
                )
                .order_by("pk")
                .values_list("name_key", "prefecture_id", "pk")
            ):
                by_name.setdefault((key, pref), pk)
            for key, pref, pk in (
                Company.objects.filter(
                    name_key__in={k for k, _p in keys},
                    prefecture_id__in={p for _k, p in keys},
                    merged_into=None,
                )
                .order_by("pk")
                .values_list("name_key", "prefecture_id", "pk")
            ):
                by_name.setdefault((key, pref), pk)
        for row in rows:
            if not row.is_valid:
                continue
            v = row.values
            number = v["corporate_number"]
            nkey = (
                ("name", name_key(v["company_name"]), v["prefecture"])
                if v["company_name"] and v["prefecture"]
                else None
            )
            if number and ("number", number) in self.known:
                key = ("number", number)
            elif number and number in by_number:
                key = ("number", number)
                self.known[key] = by_number[number]
                self._note(key, v, "corporate_number", by_number[number])
            elif not number and nkey and nkey in self.known:
                key = nkey
            elif nkey and (nkey[1], nkey[2]) in by_name and not number:
                key = nkey
                self.known[key] = by_name[(nkey[1], nkey[2])]
                self._note(key, v, "name", self.known[key])
            else:
                _company_new_check(row, today)
                if not row.is_valid:
                    continue
                key = ("number", number) if number else nkey
                if key not in self.known:
                    self.known[key] = None
                    self._note(key, v, "new", None)
            row.company_key = key
            row.company_id = self.known[key]
            row.match = self.summary[key]["match"]
            self.summary[key]["rows"] += 1

    def _note(
        self, key: tuple, values: Mapping[str, Any], match: str, pk: int | None
    ) -> None:
        self.summary[key] = {
            "name": values["company_name"],
            "prefecture": values["prefecture"],
            "corporate_number": values["corporate_number"],
            "match": match,
            "company": pk,
            "rows": 0,
        }


def duplicates_mark(rows: list[RowChecked], organisation: Organisation) -> None:
    """Mark rows like a consultation already recorded (same company, day, org, text)."""
    candidates = [r for r in rows if r.is_valid and r.company_id]
    if not candidates:
        return
    existing: dict[tuple[int, date], list[tuple[int, str]]] = {}
    for pk, company_id, on, summary in Consultation.objects.filter(
        organisation=organisation,
        company_id__in={r.company_id for r in candidates},
        occurred_on__in={r.values["occurred_on"] for r in candidates},
    ).values_list("pk", "company_id", "occurred_on", "summary"):
        existing.setdefault((company_id, on), []).append((pk, summary))
    for row in candidates:
        for pk, summary in existing.get(
            (row.company_id, row.values["occurred_on"]), []
        ):
            if _similar(summary, row.values["summary"]):
                row.duplicate_of = pk
                break


def rows_checked(
    records: Iterable[tuple[int, dict[str, Any]]],
    mapping: Mapping[str, str],
    *,
    organisation: Organisation,
    matcher: CompanyMatcher,
    today: date | None = None,
    duplicates: bool = True,
) -> Iterator[list[RowChecked]]:
    """Yield the file's rows checked and matched, a chunk at a time."""
    today = today or timezone.localdate()
    lookups = _Lookups(organisation)
    chunk: list[RowChecked] = []

    def finish(chunk: list[RowChecked]) -> list[RowChecked]:
        matcher.match_chunk(chunk, today)
        if duplicates:  # the report's; a commit writes flagged rows too
            duplicates_mark(chunk, organisation)
        return chunk

    for line, record in records:
        cells: dict[str, Any] = {}
        for header, value in record.items():
            name = mapping.get(header)
            if name and (name not in cells or text_clean(cells[name]) == ""):
                cells[name] = value
        chunk.append(_row_check(line, cells, lookups, today))
        if len(chunk) >= CHUNK_ROWS:
            yield finish(chunk)
            chunk = []
    if chunk:
        yield finish(chunk)
