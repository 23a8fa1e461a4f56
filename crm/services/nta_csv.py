"""Reader of the National Tax Agency's 法人番号 bulk-download CSV (基本3情報).

The 法人番号公表サイト publishes 全件データ (full) and 差分データ (daily diff)
files as CSV in a Unicode (UTF-8) and a Shift_JIS edition, usually zipped.
The format is positional: 30 columns, no header row (v3.0 リソース定義書,
from April 2018; reference/houjin_bangou.md §4). This module turns such a file
into NtaRecord values and says precisely which line is wrong, so the importer
(crm.services.nta_import) can refuse a bad file before writing anything.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from django.utils.translation import gettext as _

from crm.rules.corporate_number import is_valid_corporate_number
from support_network.errors import ValidationFailed

COLUMN_COUNT = 30

# 0-based positions of the columns the CRM reads (reference/houjin_bangou.md §4).
COL_SEQUENCE = 0  # sequenceNumber 一連番号
COL_NUMBER = 1  # corporateNumber 法人番号
COL_PROCESS = 2  # process 処理区分
COL_NAME = 6  # name 商号又は名称
COL_KIND = 8  # kind 法人種別
COL_CITY = 10  # cityName 国内所在地（市区町村）
COL_PREFECTURE_CODE = 13  # prefectureCode 都道府県コード (JIS X 0401)
COL_CLOSE_DATE = 18  # closeDate 登記記録の閉鎖等年月日
COL_SUCCESSOR = 20  # successorCorporateNumber 承継先法人番号
COL_LATEST = 23  # latest 最新履歴
COL_FURIGANA = 28  # furigana フリガナ (without the legal form)

# 処理区分 that end an entity: 21 登記記録の閉鎖等, 71 吸収合併,
# 81 商号の登記の抹消, 99 削除.
CLOSING_PROCESSES = frozenset({"21", "71", "81", "99"})
PROCESS_DELETED = "99"

# Lengths of the Company columns the values go into (crm.models.Company).
MAX_NAME_LENGTH = 200
MAX_CITY_LENGTH = 60

ENCODING_AUTO = "auto"
ENCODING_UTF8 = "utf-8"
ENCODING_CP932 = "cp932"
ENCODINGS = (ENCODING_AUTO, ENCODING_UTF8, ENCODING_CP932)
# cp932, not shift_jis: it is the superset Windows and the NTA files use
# (NEC/IBM extensions such as 髙 and ① decode only with it).
_ENCODING_LABELS = {ENCODING_UTF8: "UTF-8", ENCODING_CP932: "Shift_JIS (cp932)"}

_SNIFF_BYTES = 64 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HEADER_NAMES = frozenset({"法人番号", "corporatenumber"})


def encoding_label(encoding: str) -> str:
    """Return the name of an encoding as users know it."""
    return _ENCODING_LABELS.get(encoding, encoding)


@dataclass(frozen=True, slots=True)
class NtaRecord:
    """The columns of one NTA row that the CRM uses."""

    line: int
    corporate_number: str
    process: str
    name: str
    kind_code: str
    prefecture_code: str  # "" when the entity has no domestic address
    city: str
    furigana: str
    close_date: date | None
    successor: str  # "" when there is no 承継先法人番号
    is_latest: bool

    @property
    def is_deleted(self) -> bool:
        """Return whether NTA withdrew the number itself (処理区分 99 削除)."""
        return self.process == PROCESS_DELETED

    @property
    def is_closed(self) -> bool:
        """Return whether the entity no longer exists (closed, merged, deleted)."""
        return self.close_date is not None or self.process in CLOSING_PROCESSES


class RowError(Exception):
    """One line of the file cannot be read as an NTA record."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class NtaCsv:
    """An NTA CSV file, plain or zipped, read from a seekable binary stream.

    The stream is read twice (check, then import), so it must be seekable;
    the caller keeps ownership of it and closes it.
    """

    def __init__(self, source: BinaryIO, *, encoding: str = ENCODING_AUTO) -> None:
        if encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {encoding!r}")
        self._source = source
        self._member = self._find_csv_member()
        with self._binary() as stream:
            sample = stream.read(_SNIFF_BYTES)
        if not sample.strip():
            raise ValidationFailed(
                _("ファイルが空です。"), code="nta_file_empty", field="file"
            )
        self.encoding = encoding if encoding != ENCODING_AUTO else _sniff(sample)

    def _find_csv_member(self) -> str | None:
        """Return the CSV inside a ZIP as NTA distributes it, or None if plain."""
        self._source.seek(0)
        magic = self._source.read(len(_ZIP_MAGIC))
        self._source.seek(0)
        if magic != _ZIP_MAGIC:
            return None
        try:
            with zipfile.ZipFile(self._source) as archive:
                names = [
                    info.filename
                    for info in archive.infolist()
                    if not info.is_dir() and info.filename.lower().endswith(".csv")
                ]
        except zipfile.BadZipFile as exc:
            raise ValidationFailed(
                _("ZIP ファイルが壊れているため読めません。"),
                code="nta_file_unreadable",
                field="file",
            ) from exc
        if len(names) != 1:
            raise ValidationFailed(
                _(
                    "ZIP ファイルには CSV ファイルが1つだけ入っている必要があります"
                    "（%(count)d 個あります）。"
                )
                % {"count": len(names)},
                code="nta_file_unreadable",
                field="file",
            )
        return names[0]

    @contextlib.contextmanager
    def _binary(self) -> Iterator[BinaryIO]:
        """Yield the CSV bytes from the start, unzipping when needed."""
        self._source.seek(0)
        if self._member is None:
            yield self._source
            return
        try:
            with (
                zipfile.ZipFile(self._source) as archive,
                archive.open(self._member) as member,
            ):
                yield member
        except (zipfile.BadZipFile, EOFError) as exc:
            raise ValidationFailed(
                _("ZIP ファイルが壊れているため読めません。"),
                code="nta_file_unreadable",
                field="file",
            ) from exc

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (line number, cells) for each non-blank line of the file.

        Raises:
            ValidationFailed: when the bytes are not text in the file's encoding.
        """
        # utf-8-sig reads the Unicode edition with or without a BOM.
        codec = "utf-8-sig" if self.encoding == ENCODING_UTF8 else self.encoding
        line = 0
        with self._binary() as stream:
            text = io.TextIOWrapper(stream, encoding=codec, newline="")
            try:
                reader = csv.reader(text, strict=True)
                for cells in reader:
                    line = reader.line_num
                    if cells and any(cell.strip() for cell in cells):
                        yield line, cells
            except UnicodeDecodeError as exc:
                raise ValidationFailed(
                    _(
                        "%(line)d 行目付近に %(encoding)s として読めない文字があります。"
                        "文字コードの指定を確認してください。"
                    )
                    % {"line": line + 1, "encoding": encoding_label(self.encoding)},
                    code="nta_file_unreadable",
                    field="file",
                ) from exc
            except (csv.Error, zipfile.BadZipFile, EOFError) as exc:
                raise ValidationFailed(
                    _(
                        "%(line)d 行目付近を CSV として読めません。"
                        "法人番号公表サイトの CSV ファイルか確認してください。"
                    )
                    % {"line": line + 1},
                    code="nta_file_unreadable",
                    field="file",
                ) from exc
            finally:
                # Leave the caller's stream open: only the wrapper is ours.
                text.detach()

    def records(self) -> Iterator[NtaRecord | RowError]:
        """Yield each row as an NtaRecord, or as a RowError saying what is wrong."""
        for line, cells in self.rows():
            if line == 1 and _is_header(cells):
                continue
            try:
                yield parse_row(line, cells)
            except RowError as error:
                yield error


def _sniff(sample: bytes) -> str:
    """Return the encoding of an NTA file from its first bytes."""
    if sample.startswith(codecs.BOM_UTF8):
        return ENCODING_UTF8
    try:
        # final=False: the sample may end in the middle of a character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return ENCODING_CP932
    # Japanese text in Shift_JIS is practically never valid UTF-8.
    return ENCODING_UTF8


def _is_header(cells: list[str]) -> bool:
    """Return whether a first row is a header someone added (NTA files have none)."""
    return len(cells) > COL_NUMBER and (
        cells[COL_NUMBER].strip().lower() in _HEADER_NAMES
    )


def parse_row(line: int, cells: list[str]) -> NtaRecord:
    """Return the record of one CSV row.

    Raises:
        RowError: naming the line and the column that is wrong.
    """
    if len(cells) != COLUMN_COUNT:
        raise RowError(
            line,
            _(
                "列の数が %(count)d です（%(expected)d 列のはずです）。"
                "法人番号公表サイトの CSV 形式（2018年4月以降）のファイルを指定してください。"
            )
            % {"count": len(cells), "expected": COLUMN_COUNT},
        )
    cells = [cell.strip() for cell in cells]
    number = cells[COL_NUMBER]
    if not (len(number) == 13 and number.isascii() and number.isdigit()):
        raise RowError(
            line,
            _("法人番号が13桁の数字ではありません（%(value)s）。") % {"value": number},
        )
    if not is_valid_corporate_number(number):
        raise RowError(
            line,
            _("法人番号のチェックデジットが正しくありません（%(value)s）。")
            % {"value": number},
        )
    process = cells[COL_PROCESS]
    if not (len(process) == 2 and process.isascii() and process.isdigit()):
        raise RowError(
            line, _("処理区分が正しくありません（%(value)s）。") % {"value": process}
        )
    kind_code = cells[COL_KIND]
    if kind_code and not (
        len(kind_code) == 3 and kind_code.isascii() and kind_code.isdigit()
    ):
        raise RowError(
            line, _("法人種別が正しくありません（%(value)s）。") % {"value": kind_code}
        )
    name = cells[COL_NAME]
    if not name and process != PROCESS_DELETED:
        raise RowError(line, _("商号又は名称が空です。"))
    if len(name) > MAX_NAME_LENGTH:
        raise RowError(
            line,
            _("商号又は名称が %(max)d 文字を超えています。") % {"max": MAX_NAME_LENGTH},
        )
    city = cells[COL_CITY]
    if len(city) > MAX_CITY_LENGTH:
        raise RowError(
            line,
            _("市区町村名が %(max)d 文字を超えています。") % {"max": MAX_CITY_LENGTH},
        )
    prefecture_code = cells[COL_PREFECTURE_CODE]
    if prefecture_code and not (
        len(prefecture_code) == 2
        and prefecture_code.isascii()
        and prefecture_code.isdigit()
        and 1 <= int(prefecture_code) <= 47
    ):
        raise RowError(
            line,
            _("都道府県コードが正しくありません（%(value)s）。")
            % {"value": prefecture_code},
        )
    successor = cells[COL_SUCCESSOR]
    if successor and not is_valid_corporate_number(successor):
        raise RowError(
            line,
            _("承継先法人番号が正しくありません（%(value)s）。") % {"value": successor},
        )
    latest = cells[COL_LATEST]
    if latest not in ("0", "1"):
        raise RowError(
            line,
            _("最新履歴は 0 か 1 のはずです（%(value)s）。") % {"value": latest},
        )
    return NtaRecord(
        line=line,
        corporate_number=number,
        process=process,
        name=name,
        kind_code=kind_code,
        prefecture_code=prefecture_code,
        city=city,
        furigana=cells[COL_FURIGANA][:MAX_NAME_LENGTH],
        close_date=_parse_date(line, cells[COL_CLOSE_DATE]),
        successor=successor if successor != number else "",
        is_latest=latest == "1",
    )


def _parse_date(line: int, value: str) -> date | None:
    if not value:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise RowError(
            line,
            _("登記記録の閉鎖等年月日が日付（YYYY-MM-DD）ではありません（%(value)s）。")
            % {"value": value},
        ) from exc
