"""The CSV and xlsx writers of exports, opened back with csv and openpyxl.

Both xlsx engines (XlsxWriter constant_memory, openpyxl write-only) must
produce the same workbook: what a manager sees in Excel does not depend on
which one the bench found faster.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import openpyxl
import pytest

from crm.exports.writers import (
    DATE,
    DATETIME,
    DECIMAL,
    EMPTY_NOTE,
    INT,
    TEXT,
    Column,
    cp932_encode,
    neutralise,
    write_csv,
    write_xlsx,
)

COLUMNS = [
    Column("企業等", TEXT, 30),
    Column("相談日", DATE, 12),
    Column("所要時間（分）", INT, 10),
    Column("使用日数", DECIMAL, 8),
    Column("紹介日時", DATETIME, 17),
]
ROWS = [
    ("株式会社テスト工業", date(2025, 4, 1), 60, Decimal("1.5"), None),
    (
        "𠮷野家ホールディングス",
        date(2026, 3, 31),
        0,
        Decimal("0"),
        # 2026-03-31 15:30 UTC is 2026-04-01 00:30 JST.
        datetime(2026, 3, 31, 15, 30, tzinfo=UTC),
    ),
    (None, None, None, None, None),
]
INJECTIONS = [
    '=HYPERLINK("http://evil.example","x")',
    "+81-3-1234-5678",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
]
ENGINES = ["xlsxwriter", "openpyxl"]


def read_csv(path, encoding="utf-8-sig"):
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.reader(f))


# --- injection ---------------------------------------------------------------------


@pytest.mark.parametrize("text", INJECTIONS)
def test_neutralise_prefixes_every_dangerous_start_with_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["株式会社=", "A-1", "田中@", "", "'quoted"])
def test_neutralise_leaves_other_text_alone(text):
    assert neutralise(text) == text


def test_csv_neutralises_text_cells_but_not_numbers(tmp_path):
    path = tmp_path / "x.csv"
    rows = [(text, None, -5, Decimal("-1.5"), None) for text in INJECTIONS]
    write_csv(path, COLUMNS, iter(rows))
    body = read_csv(path)[1:]
    assert [r[0] for r in body] == ["'" + t for t in INJECTIONS]
    # Numbers are numbers, negative ones included: not text, not prefixed.
    assert {r[2] for r in body} == {"-5"}
    assert {r[3] for r in body} == {"-1.5"}


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_writes_dangerous_text_as_quoted_strings_never_formulas(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    write_xlsx(
        path,
        COLUMNS,
        iter([(t, None, 1, None, None) for t in INJECTIONS]),
        engine=engine,
    )
    sheet = openpyxl.load_workbook(path).active
    cells = [sheet.cell(row=r, column=1) for r in range(2, 2 + len(INJECTIONS))]
    for cell, text in zip(cells, INJECTIONS, strict=True):
        assert cell.data_type == "s", (text, cell.data_type)
        assert isinstance(cell.value, str) and cell.value.startswith("'")
        # XlsxWriter stores a CR as the OOXML escape _x000D_ (Excel reads it
        # back as a CR, openpyxl leaves it); openpyxl stores a raw CR, which
        # XML parsers read back as LF. Either way the quote comes first.
        assert cell.value.replace("_x000D_", "\r") in (
            "'" + text,
            "'" + text.replace("\r", "\n"),
        )


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_never_stores_a_formula_anywhere(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    write_xlsx(
        path,
        COLUMNS,
        iter([(t, None, 1, None, None) for t in INJECTIONS]),
        engine=engine,
    )
    import zipfile

    with zipfile.ZipFile(path) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


# --- CSV ---------------------------------------------------------------------------


def test_csv_utf8_has_a_bom_crlf_japanese_headers_and_iso_dates(tmp_path):
    path = tmp_path / "x.csv"
    result = write_csv(path, COLUMNS, iter(ROWS))
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    rows = read_csv(path)
    assert rows[0] == ["企業等", "相談日", "所要時間（分）", "使用日数", "紹介日時"]
    assert rows[1] == ["株式会社テスト工業", "2025-04-01", "60", "1.5", ""]
    assert rows[2] == [
        "𠮷野家ホールディングス",
        "2026-03-31",
        "0",
        "0",
        "2026-04-01 00:30",
    ]
    assert rows[3] == ["", "", "", "", ""]
    assert result.row_count == 3
    assert result.replaced_char_count == 0


def test_csv_cp932_replaces_what_cp932_lacks_counts_it_and_does_not_fail(tmp_path):
    path = tmp_path / "x.csv"
    rows = [
        ("𠮷野家", None, 1, None, None),  # U+20BB7: not in cp932
        ("髙島屋・﨑山・①・㈱", None, 2, None, None),  # NEC/IBM extensions: in cp932
        ("Café — “Crème” 𩸽", None, 3, None, None),
    ]
    result = write_csv(path, COLUMNS, iter(rows), encoding="cp932")
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    body = read_csv(path, encoding="cp932")
    assert body[0][0] == "企業等"
    assert body[1][0] == "〓野家"
    assert body[2][0] == "髙島屋・﨑山・①・㈱"
    # é, è and 𩸽 become 〓; the em dash has a cp932 equivalent (―).
    assert body[3][0] == "Caf〓 ― “Cr〓me” 〓"
    assert result.replaced_char_count == 1 + 3
    assert result.row_count == 3


def test_cp932_encode_counts_per_call():
    data, lost = cp932_encode("𠮷田と吉田")
    assert data.decode("cp932") == "〓田と吉田"
    assert lost == 1
    assert cp932_encode("吉田")[1] == 0


def test_csv_reports_progress(tmp_path):
    seen = []
    write_csv(
        tmp_path / "x.csv",
        [Column("n", INT)],
        ((i,) for i in range(25)),
        progress=seen.append,
        progress_every=10,
    )
    assert seen == [10, 20]


# --- xlsx --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_headers_types_formats_frozen_pane_filter_and_widths(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    result = write_xlsx(
        path, COLUMNS, iter(ROWS), sheet_title="相談記録 2025年度", engine=engine
    )
    assert result.row_count == 3
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    assert sheet.title == "相談記録 2025年度"
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"
    # Numbers are numbers, dates are dates with a date format.
    name, day, minutes, days, sent = sheet[2]
    assert name.value == "株式会社テスト工業" and name.data_type == "s"
    assert day.is_date and day.value.isoformat() == "2025-04-01T00:00:00"
    assert day.number_format == "yyyy/mm/dd"
    assert minutes.value == 60 and minutes.data_type == "n"
    assert days.value == 1.5 and days.data_type == "n"
    assert sent.value is None
    sent = sheet["E3"]
    assert sent.is_date and sent.value.isoformat() == "2026-04-01T00:30:00"
    assert sent.number_format == "yyyy/mm/dd hh:mm"
    assert sheet["A3"].value == "𠮷野家ホールディングス"
    assert sheet["C3"].value == 0 and sheet["C3"].data_type == "n"
    assert all(c.value is None for c in sheet[4])
    # Widths from the column definitions (Japanese headers count double).
    widths = {k: round(sheet.column_dimensions[k].width) for k in "ABCDE"}
    assert widths["A"] >= 30 and widths["B"] >= 12 and widths["E"] >= 17
    assert widths["C"] >= len("所要時間（分）") * 2


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_drops_control_characters_and_truncates_huge_cells(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    rows = [
        ("ベル\x07と\x00ヌル", None, None, None, None),
        ("あ" * 40_000, None, None, None, None),
    ]
    write_xlsx(path, COLUMNS, iter(rows), engine=engine)
    sheet = openpyxl.load_workbook(path).active
    assert sheet["A2"].value == "ベルとヌル"
    assert len(sheet["A3"].value) == 32_767


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    write_xlsx(
        path,
        [Column("番号", INT)],
        ((i,) for i in range(5)),
        sheet_title="データ",
        engine=engine,
        max_rows_per_sheet=2,
    )
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["データ", "データ(2)", "データ(3)"]
    values = [
        [c.value for c in row] for ws in workbook.worksheets for row in ws.iter_rows()
    ]
    assert values == [["番号"], [0], [1], ["番号"], [2], [3], ["番号"], [4]]
    assert [ws.auto_filter.ref for ws in workbook.worksheets] == [
        "A1:A3",
        "A1:A3",
        "A1:A2",
    ]
    assert all(ws.freeze_panes == "A2" for ws in workbook.worksheets)


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_with_no_rows_has_its_header_and_says_why(tmp_path, engine):
    path = tmp_path / "x.xlsx"
    assert write_xlsx(path, COLUMNS, iter([]), engine=engine).row_count == 0
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    # Not an empty file handed over silently: the first sheet says why.
    assert sheet.max_row == 2
    assert sheet["A2"].value == EMPTY_NOTE
    assert "閲覧できる案件" in EMPTY_NOTE


def test_csv_with_no_rows_says_why_on_its_first_line(tmp_path):
    path = tmp_path / "x.csv"
    assert write_csv(path, COLUMNS, iter([])).row_count == 0
    lines = read_csv(path)
    assert lines[0] == [EMPTY_NOTE]
    assert lines[1] == [c.header for c in COLUMNS]
    assert len(lines) == 2


def test_csv_with_rows_has_no_note(tmp_path):
    path = tmp_path / "x.csv"
    write_csv(path, COLUMNS, ROWS)
    assert read_csv(path)[0] == [c.header for c in COLUMNS]


@pytest.mark.parametrize("engine", ENGINES)
def test_xlsx_prints_landscape_fitted_to_width_with_the_header_row_and_wareki_fy(
    tmp_path, engine
):
    path = tmp_path / "x.xlsx"
    write_xlsx(
        path,
        COLUMNS,
        ROWS,
        sheet_title="相談記録",
        engine=engine,
        fiscal_year=2025,
        max_rows_per_sheet=2,
    )
    workbook = openpyxl.load_workbook(path)
    assert len(workbook.worksheets) == 2  # every sheet, not only the first
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        # fitToWidth absent is 1 (the OOXML default); fitToHeight 0 = as many pages as needed.
        assert int(sheet.page_setup.fitToWidth or 1) == 1
        assert int(sheet.page_setup.fitToHeight) == 0
        assert sheet.print_title_rows.replace("$", "") == "1:1"
        assert sheet.oddHeader.left.text == "相談記録"
        assert sheet.oddHeader.right.text == "2025年度（令和7年度）"
        assert sheet.oddFooter.left.text == "2025年度（令和7年度）"
        assert sheet.oddFooter.center.text == "&P / &N"


def test_csv_of_many_rows_streams(tmp_path):
    """A generator is consumed once, row by row (nothing is collected first)."""
    consumed = []

    def rows():
        for i in range(1000):
            consumed.append(i)
            yield (f"社{i}", None, i, None, None)

    write_csv(tmp_path / "x.csv", COLUMNS, rows())
    assert len(consumed) == 1000
    text = (tmp_path / "x.csv").read_text(encoding="utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1001
