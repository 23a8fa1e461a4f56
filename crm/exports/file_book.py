"""The 個人情報ファイル簿 draft as a file (CSV UTF-8 with BOM, or xlsx).

Generated from crm/rules/personal_data.py and the models' metadata
(crm/selectors/personal_data.py `personal_data_file_book`), written with
the export writers so headers, widths and spreadsheet safety match every
other export.
"""

from __future__ import annotations

from pathlib import Path

from crm.exports.writers import TEXT, Column, WriteResult, write_csv, write_xlsx
from crm.selectors.personal_data import personal_data_file_book

FILE_BOOK_COLUMNS = (
    ("model_label", Column("記録の種類", TEXT, 20)),
    ("field_label", Column("項目", TEXT, 20)),
    ("purpose", Column("利用目的", TEXT, 50)),
    ("source", Column("記録情報の収集方法（取得元）", TEXT, 36)),
    ("recipients", Column("経常的な提供先", TEXT, 36)),
    ("retention", Column("保存期間", TEXT, 44)),
    ("model", Column("モデル", TEXT, 18)),
    ("field", Column("フィールド", TEXT, 14)),
)

FILE_BOOK_FORMATS = ("csv", "xlsx")


def file_book_write(path: Path, format: str) -> WriteResult:
    """Write the 個人情報ファイル簿 draft to path as csv or xlsx."""
    columns = [column for _key, column in FILE_BOOK_COLUMNS]
    rows = (
        [row[key] for key, _column in FILE_BOOK_COLUMNS]
        for row in personal_data_file_book()
    )
    if format == "xlsx":
        return write_xlsx(path, columns, rows, sheet_title="個人情報ファイル簿（案）")
    return write_csv(path, columns, rows, encoding="utf-8-sig")
