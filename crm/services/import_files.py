"""Reading an import file: xlsx or CSV, detected, streamed row by row.

`file_rows` streams (line, {header: value}) from an xlsx (openpyxl read-only,
values only: formulas give their cached result, macros are never run) or a
CSV in UTF-8 (with or without BOM) or cp932, detected and decoded as read.
The limits of an import (bytes, rows) are checked here, with a Japanese
message naming them.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from crm.rules.import_values import text_clean
from support_network.errors import ValidationFailed

# Limits of one import: a decade of a busy 窓口 is ~30,000 rows.
IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_ROWS = 100_000
# Bytes decoded at a time while the encoding of a CSV is detected.
_DECODE_SLICE = 1 << 16


class ImportFileError(ValidationFailed):
    """The file cannot be read at all (format, encoding, size, headers)."""


def file_format(content: bytes) -> str:
    """Return "xlsx" or "csv" from the bytes; refuse old Excel files."""
    if content[:4] == b"PK\x03\x04":
        return "xlsx"
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(
            _(
                "古いExcel形式（.xls）は読めません。"
                "Excelで「.xlsx」またはCSVとして保存し直してください。"
            ),
            field="file",
        )
    return "csv"


def _decodes(content: bytes, encoding: str) -> bool:
    """Return whether the whole content decodes, reading it in slices (no copy)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(content)
    try:
        for start in range(0, len(content), _DECODE_SLICE):
            decoder.decode(view[start : start + _DECODE_SLICE])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def csv_encoding(content: bytes) -> str:
    """Return the CSV's encoding: UTF-8 with BOM, UTF-8, else cp932 (Shift_JIS)."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(content, "utf-8"):
        return "utf-8"
    if _decodes(content, "cp932"):
        return "cp932"
    raise ImportFileError(
        _(
            "文字コードを判別できません。UTF-8またはShift_JIS（cp932）の"
            "CSVで保存してください。"
        ),
        field="file",
    )


def _csv_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    # Decoded as read: the file is never held twice, once as text.
    text = io.TextIOWrapper(
        io.BytesIO(content), encoding=csv_encoding(content), newline=""
    )
    yield from enumerate(csv.reader(text), start=1)


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=True, keep_links=False
        )
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(
            _("Excelファイルを読めません。壊れていないか確認してください。"),
            field="file",
        ) from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def file_size_check(size: int) -> None:
    """Refuse a file over IMPORT_MAX_BYTES before it is read."""
    if size > IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("ファイルが大きすぎます（上限 %(mb)s MB）。分割して取り込んでください。")
            % {"mb": IMPORT_MAX_BYTES // (1024 * 1024)},
            field="file",
        )


def file_rows(
    content: bytes,
) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """Return the header row and a stream of (line, {header: value}).

    The header is the first non-empty row; blank rows are skipped. Raises
    ImportFileError for an unreadable, empty or too long file.
    """
    file_size_check(len(content))
    kind = file_format(content)
    raw = _xlsx_rows(content) if kind == "xlsx" else _csv_rows(content)
    headers: list[str] = []
    for _number, row in raw:
        if any(text_clean(v) for v in row):
            headers = [text_clean(v) for v in row]
            break
    if not headers:
        raise ImportFileError(_("ファイルに見出し行がありません。"), field="file")

    def records() -> Iterator[tuple[int, dict[str, Any]]]:
        count = 0
        for number, row in raw:
            if not any(text_clean(v) for v in row):
                continue
            count += 1
            if count > IMPORT_MAX_ROWS:
                raise ImportFileError(
                    _(
                        "行数が多すぎます（上限 %(max)s 行）。"
                        "ファイルを分割して取り込んでください。"
                    )
                    % {"max": f"{IMPORT_MAX_ROWS:,}"},
                    field="file",
                )
            yield (
                number,
                {
                    h: row[i] if i < len(row) else None
                    for i, h in enumerate(headers)
                    if h
                },
            )

    return headers, records()
