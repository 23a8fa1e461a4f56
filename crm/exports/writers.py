"""Streaming CSV and xlsx writers of export files (DESIGN.md "Statistics and exports").

Each writer takes the columns of a table and an iterator of row tuples and
writes them to a path in constant memory: rows are never collected.

- CSV: UTF-8 with a BOM by default (Excel opens the Japanese text correctly),
  or cp932 (Shift_JIS as Windows writes it) on request. Characters outside
  cp932 never make the export fail: a few have a cp932 equivalent (em dash,
  en dash, no-break space, NFKC forms such as ™ → TM); every other one
  becomes 〓 (geta, the customary mark of a missing glyph) and is counted.
- xlsx: Japanese headers, the header row frozen, an auto-filter over the
  table, column widths from the column definitions, numbers as numbers,
  dates as date cells with a date format. A sheet holds at most 1,048,575
  data rows; further rows continue on another sheet with the same header.
- Formula (CSV) injection (OWASP ASVS 1.2.10): a text cell that begins with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
  single quote, in both formats, and xlsx cells are always written as
  strings, never as formulas. Numbers and dates are not text and are written
  as they are.

Two xlsx engines are implemented, XlsxWriter (constant_memory) and openpyxl
(write-only); ``bench/export.py`` measures both on the same rows and
``XLSX_ENGINE`` names the faster one, which the exports use.
"""

from __future__ import annotations

import codecs
import contextvars
import csv
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from support_network.calendar import JST, fiscal_year, fiscal_year_wareki_label

TEXT = "text"
INT = "int"
DECIMAL = "decimal"
DATE = "date"
DATETIME = "datetime"

# Text cells starting with one of these would be read as a formula (or DDE
# payload) by a spreadsheet: OWASP "CSV Injection", ASVS 1.2.10.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_PREFIX_CHARS = frozenset(FORMULA_PREFIXES)
# Values the csv module writes as they should appear (None as "", dates ISO).
_CSV_PLAIN = frozenset({type(None), int, float, Decimal, date, datetime})

# Excel's limits.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL_CHARS = 32_767
XLSX_DATE_FORMAT = "yyyy/mm/dd"
XLSX_DATETIME_FORMAT = "yyyy/mm/dd hh:mm"
XLSX_DECIMAL_FORMAT = "0.0"

# Said in the file itself when a table has no row (issue 16): a row-level
# export follows case visibility, so a national or regional manager (who
# sees aggregates, not other organisations' cases) may get none.
EMPTY_NOTE = (
    "該当する行はありません。行単位の出力（相談記録・紹介・支援事業の参加）には、"
    "閲覧できる案件（自組織の案件と、紹介・同席で共有された案件）の行だけが入ります。"
    "全国・地域の数は統計ページの集計（相談統計）で確認してください。"
)


def _peek(rows: Iterable) -> tuple[bool, Iterator]:
    """Return whether *rows* yields anything, and an iterator over all of them."""
    import itertools

    it = iter(rows)
    for first in it:
        return True, itertools.chain((first,), it)
    return False, iter(())


def _print_header(sheet_title: str, fy: int | None) -> tuple[str, str]:
    """Return the print header's title and its fiscal year with its 和暦 label.

    "&" starts a header/footer code in Excel, so a literal one is doubled.
    """
    fy = fy if fy is not None else fiscal_year(datetime.now(JST))
    label = f"{fy}年度（{fiscal_year_wareki_label(fy)}）"
    return (sheet_title or "").replace("&", "&&"), label


PAGE_NUMBERS = "&P / &N"

# Control characters XML 1.0 cannot carry (xlsx is XML): dropped from cells.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

CP932_REPLACEMENT = "〓"
# Characters outside cp932 with an equivalent inside it (not counted as replaced).
CP932_EQUIVALENTS = {
    "\u2014": "\u2015",  # EM DASH → HORIZONTAL BAR (JIS 1-1-29 as cp932 maps it)
    "\u2013": "-",  # EN DASH
    "\u2011": "-",  # NON-BREAKING HYPHEN
    "\u00a0": " ",  # NO-BREAK SPACE
}
CP932_ERRORS = "crm_export_cp932"

# Default xlsx engine: the faster of the two in bench/export.py (see README).
XLSX_ENGINE = "xlsxwriter"

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class Column:
    """One column of an export: its Japanese header, value kind and width."""

    header: str
    kind: str = TEXT
    width: float | None = None  # in characters; None: from the header


@dataclass
class WriteResult:
    """What a writer wrote."""

    row_count: int = 0
    replaced_char_count: int = 0


def neutralise(text: str) -> str:
    """Return text that a spreadsheet will not take for a formula.

    >>> neutralise("=1+1"), neutralise("株式会社"), neutralise("-")
    ("'=1+1", '株式会社', "'-")
    """
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def display_width(text: str) -> int:
    """Return the width of text in half-width columns (全角 counts 2)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in text)


def column_width(column: Column) -> float:
    """Return the xlsx width of a column: its own, or the header's plus room."""
    header = display_width(column.header) + 3  # the auto-filter button
    if column.width is not None:
        return max(column.width, header)
    return max(header, 8)


# --- cp932 ---------------------------------------------------------------------

_replaced: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "crm_export_cp932_replaced", default=None
)


def _cp932_substitute(char: str) -> tuple[str, bool]:
    """Return (text in cp932 standing for char, whether it is a lossy 〓)."""
    equivalent = CP932_EQUIVALENTS.get(char)
    if equivalent is None:
        equivalent = unicodedata.normalize("NFKC", char)
    try:
        equivalent.encode("cp932")
    except UnicodeEncodeError:
        return CP932_REPLACEMENT, True
    return equivalent, False


def _cp932_error_handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    parts = []
    lost = 0
    for char in exc.object[exc.start : exc.end]:
        text, lossy = _cp932_substitute(char)
        parts.append(text)
        lost += lossy
    counter = _replaced.get()
    if counter is not None:
        counter[0] += lost
    return "".join(parts), exc.end


codecs.register_error(CP932_ERRORS, _cp932_error_handler)


def cp932_encode(text: str) -> tuple[bytes, int]:
    """Return text in cp932 and how many characters became 〓."""
    counter = [0]
    token = _replaced.set(counter)
    try:
        data = text.encode("cp932", errors=CP932_ERRORS)
    finally:
        _replaced.reset(token)
    return data, counter[0]


# --- cell values -----------------------------------------------------------------


def _naive_jst(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(JST)
    return value.replace(tzinfo=None)


def _xlsx_text(value) -> str:
    text = neutralise(str(value))
    if _XML_ILLEGAL.search(text):
        text = _XML_ILLEGAL.sub("", text)
    if len(text) > XLSX_MAX_CELL_CHARS:
        text = text[: XLSX_MAX_CELL_CHARS - 1] + "…"
    return text


# --- CSV -------------------------------------------------------------------------


def write_csv(
    path: Path | str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    *,
    encoding: str = "utf-8-sig",
    progress: ProgressCallback | None = None,
    progress_every: int = 5000,
) -> WriteResult:
    """Write a CSV file (CRLF line ends, every field quoted as needed)."""
    if encoding not in ("utf-8-sig", "cp932"):
        raise ValueError(f"unsupported CSV encoding {encoding!r}")
    result = WriteResult()
    counter = [0]
    datetimes = [i for i, c in enumerate(columns) if c.kind == DATETIME]
    width = len(columns)
    errors = CP932_ERRORS if encoding == "cp932" else "strict"
    token = _replaced.set(counter)
    has_rows, rows = _peek(rows)
    try:
        with open(path, "w", encoding=encoding, errors=errors, newline="") as f:
            writer = csv.writer(f)
            if not has_rows:  # the first line says why the file is empty
                writer.writerow([EMPTY_NOTE])
            writer.writerow([neutralise(c.header) for c in columns])
            writerow = writer.writerow
            n = 0
            for row in rows:
                # One pass per row (this loop is the export's hot path): text
                # is neutralised, None/numbers/dates are left to csv (None →
                # "", dates → ISO), anything else becomes neutralised text.
                out = csv_cells(row)
                if len(out) != width:
                    raise ValueError(f"row of {len(out)} cells for {width} columns")
                for i in datetimes:
                    v = out[i]
                    if v.__class__ is datetime:
                        out[i] = _naive_jst(v).strftime("%Y-%m-%d %H:%M")
                writerow(out)
                n += 1
                if progress is not None and n % progress_every == 0:
                    progress(n)
    finally:
        _replaced.reset(token)
    result.row_count = n
    result.replaced_char_count = counter[0]
    return result


class _Echo:
    """A file-like object whose write returns the line (for streamed CSV)."""

    def write(self, value: str) -> str:
        return value


def csv_cells(row: Iterable) -> list:
    """Return a row's cells as write_csv writes them (text neutralised).

    Numbers, dates and None are left to csv; any other value becomes text
    that a spreadsheet will not take for a formula.
    """
    return [
        ("'" + v if v[:1] in _PREFIX_CHARS else v)
        if v.__class__ is str
        else (v if v.__class__ in _CSV_PLAIN else neutralise(str(v)))
        for v in row
    ]


def stream_csv(header: Sequence[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """Yield a UTF-8 CSV (BOM first, CRLF line ends) line by line, neutralised.

    The streamed twin of write_csv for HTTP responses (e.g. the APPI
    provision records): the same neutralisation against formula injection.
    """
    yield "\ufeff"  # UTF-8 BOM, so Excel opens the Japanese text correctly
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralise(str(h)) for h in header])
    for row in rows:
        yield writer.writerow(csv_cells(row))


# --- xlsx ------------------------------------------------------------------------


def _sheet_title(title: str, number: int) -> str:
    """Return a legal sheet name (31 characters, no []:*?/\\), numbered after 1."""
    title = re.sub(r"[\[\]:*?/\\]", "_", title or "Sheet")[:27]
    return title if number == 1 else f"{title}({number})"


def write_xlsx(
    path: Path | str,
    columns: Sequence[Column],
    rows: Iterable[Sequence],
    *,
    sheet_title: str = "データ",
    progress: ProgressCallback | None = None,
    progress_every: int = 5000,
    engine: str | None = None,
    max_rows_per_sheet: int = XLSX_MAX_ROWS - 1,
    fiscal_year: int | None = None,
) -> WriteResult:
    """Write an xlsx workbook with the default (or the named) engine.

    Every sheet prints landscape, fitted to the page width, with the header
    row repeated on each page and the 和暦 fiscal year (*fiscal_year*, else
    the current one) in the page header and footer. An empty table gets a
    note (EMPTY_NOTE) under its header.
    """
    engine = engine or XLSX_ENGINE
    writer = {
        "xlsxwriter": _write_xlsx_xlsxwriter,
        "openpyxl": _write_xlsx_openpyxl,
    }[engine]
    return writer(
        path,
        columns,
        rows,
        sheet_title=sheet_title,
        progress=progress,
        progress_every=progress_every,
        max_rows_per_sheet=max_rows_per_sheet,
        print_header=_print_header(sheet_title, fiscal_year),
    )


# --- xlsx: XlsxWriter (constant_memory) ---------------------------------------------


def _write_xlsx_xlsxwriter(
    path,
    columns,
    rows,
    *,
    sheet_title,
    progress,
    progress_every,
    max_rows_per_sheet,
    print_header=("", ""),
) -> WriteResult:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            # Strings stay strings: never a formula, URL or number.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": str(Path(path).parent),
        },
    )
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1}
    )
    date_format = workbook.add_format({"num_format": XLSX_DATE_FORMAT})
    datetime_format = workbook.add_format({"num_format": XLSX_DATETIME_FORMAT})
    decimal_format = workbook.add_format({"num_format": XLSX_DECIMAL_FORMAT})
    kinds = [c.kind for c in columns]
    last_col = len(columns) - 1
    sheets = []

    def new_sheet():
        sheet = workbook.add_worksheet(_sheet_title(sheet_title, len(sheets) + 1))
        for i, column in enumerate(columns):
            sheet.set_column(i, i, column_width(column))
        sheet.freeze_panes(1, 0)
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)  # as wide as one page, as many pages as needed
        sheet.repeat_rows(0)
        title, label = print_header
        sheet.set_header(f"&L{title}&R{label}")
        sheet.set_footer(f"&L{label}&C{PAGE_NUMBERS}")
        for i, column in enumerate(columns):
            sheet.write_string(0, i, _xlsx_text(column.header), header_format)
        sheets.append(sheet)
        return sheet

    def close_sheet(sheet, data_rows: int) -> None:
        # Header row 0, data rows 1..data_rows (0-based, inclusive).
        sheet.autofilter(0, 0, data_rows, last_col)

    sheet = new_sheet()
    write_string, write_number = sheet.write_string, sheet.write_number
    write_datetime = sheet.write_datetime
    n = 0
    r = 0  # data rows on the current sheet
    for row in rows:
        if r >= max_rows_per_sheet:
            close_sheet(sheet, r)
            sheet = new_sheet()
            write_string, write_number = sheet.write_string, sheet.write_number
            write_datetime = sheet.write_datetime
            r = 0
        r += 1
        for c, (value, kind) in enumerate(zip(row, kinds, strict=True)):
            if value is None or value == "":
                continue
            if kind == TEXT or isinstance(value, str):
                write_string(r, c, _xlsx_text(value))
            elif kind in (DATE, DATETIME) and isinstance(value, date):
                if isinstance(value, datetime):
                    value = _naive_jst(value)
                    if kind == DATE:
                        value = value.date()
                write_datetime(
                    r, c, value, datetime_format if kind == DATETIME else date_format
                )
            elif isinstance(value, bool):
                write_string(r, c, "はい" if value else "いいえ")
            elif isinstance(value, int | float):
                write_number(r, c, value)
            elif isinstance(value, Decimal):
                write_number(r, c, float(value), decimal_format)
            else:
                write_string(r, c, _xlsx_text(value))
        n += 1
        if progress is not None and n % progress_every == 0:
            progress(n)
    if n == 0:
        sheet.write_string(1, 0, EMPTY_NOTE)
    close_sheet(sheet, r)
    workbook.close()
    return WriteResult(row_count=n)


# --- xlsx: openpyxl (write-only) --------------------------------------------------


def _write_xlsx_openpyxl(
    path,
    columns,
    rows,
    *,
    sheet_title,
    progress,
    progress_every,
    max_rows_per_sheet,
    print_header=("", ""),
) -> WriteResult:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    thin = Side(style="thin")
    header_style = {
        "font": Font(bold=True),
        "fill": PatternFill("solid", fgColor="DDEBF7"),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
    }
    kinds = [c.kind for c in columns]
    last_letter = get_column_letter(len(columns))
    sheets = []

    def new_sheet():
        sheet = workbook.create_sheet(_sheet_title(sheet_title, len(sheets) + 1))
        for i, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = column_width(column)
        sheet.freeze_panes = "A2"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.paperSize = 9  # A4
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = "1:1"
        sheet.oddHeader.left.text, sheet.oddHeader.right.text = print_header
        sheet.oddFooter.left.text = print_header[1]
        sheet.oddFooter.center.text = PAGE_NUMBERS
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, value=_xlsx_text(column.header))
            cell.data_type = "s"
            for name, style in header_style.items():
                setattr(cell, name, style)
            header.append(cell)
        sheet.append(header)
        sheets.append(sheet)
        return sheet

    def close_sheet(sheet, data_rows: int) -> None:
        # Header on row 1, data on rows 2..data_rows + 1 (1-based).
        sheet.auto_filter.ref = f"A1:{last_letter}{data_rows + 1}"

    def text_cell(sheet, value):
        cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
        cell.data_type = "s"  # a string, even if it looked like a formula
        return cell

    def cell(sheet, value, kind):
        if value is None or value == "":
            return None
        if kind == TEXT or isinstance(value, str):
            return text_cell(sheet, value)
        if kind in (DATE, DATETIME) and isinstance(value, date):
            if isinstance(value, datetime):
                value = _naive_jst(value)
                if kind == DATE:
                    value = value.date()
            c = WriteOnlyCell(sheet, value=value)
            c.number_format = (
                XLSX_DATETIME_FORMAT if kind == DATETIME else XLSX_DATE_FORMAT
            )
            return c
        if isinstance(value, bool):
            return "はい" if value else "いいえ"
        if isinstance(value, int | float):
            return value
        if isinstance(value, Decimal):
            c = WriteOnlyCell(sheet, value=float(value))
            c.number_format = XLSX_DECIMAL_FORMAT
            return c
        return text_cell(sheet, value)

    sheet = new_sheet()
    append = sheet.append
    n = 0
    r = 0
    for row in rows:
        if r >= max_rows_per_sheet:
            close_sheet(sheet, r)
            sheet = new_sheet()
            append = sheet.append
            r = 0
        append([cell(sheet, v, k) for v, k in zip(row, kinds, strict=True)])
        r += 1
        n += 1
        if progress is not None and n % progress_every == 0:
            progress(n)
    if n == 0:
        append([text_cell(sheet, EMPTY_NOTE)])
    close_sheet(sheet, r)
    workbook.save(str(path))
    return WriteResult(row_count=n)
