"""Real-looking 相談記録 files for the import tests (xlsx and CSV, made here)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import openpyxl

TOYOTA = "1180301018771"  # a valid 法人番号 (reference/houjin_bangou.md §3)

HEADER = [
    "相談日",
    "時刻",
    "企業名",
    "法人番号",
    "都道府県",
    "相談方法",
    "相談分野",
    "知財の種類",
    "所要時間",
    "相談内容",
    "助言内容",
    "フォローアップ日",
    "担当者",
    "備考",
]


def history_rows(staff_username: str) -> list[list[Any]]:
    """Ten data rows (lines 2–11): five good, five bad, 和暦 and 西暦 mixed."""
    return [
        # 2: a new company, with a follow-up
        [
            "令和6年4月1日",
            "10:30",
            "株式会社テスト工業",
            "",
            "東京都",
            "来所",
            "特許、商標",
            "特許",
            "1時間30分",
            "特許出願の進め方",
            "先行調査を勧めた",
            "令和6年5月1日",
            "",
            "初回",
        ],
        # 3: the same company spelt otherwise: same company, same case
        [
            "R6.4.15",
            "",
            "テスト工業（株）",
            "",
            "東京",
            "電話",
            "商標",
            "",
            "30分",
            "商標の区分について",
            "",
            "",
            "",
            "",
        ],
        # 4: an existing company by name + prefecture, back-dated (its new 初回)
        [
            "H31.4.30",
            "",
            "(株)エービーシー",
            "",
            "13",
            "オンライン",
            "契約",
            "",
            "60",
            "ライセンス契約の確認",
            "",
            "",
            "",
            "",
        ],
        # 5: an existing company by 法人番号; like a consultation already recorded
        [
            datetime(2024, 6, 10, 14, 0),  # noqa: DTZ001 (an Excel date cell)
            "",
            "トヨタ自動車",
            TOYOTA,
            "愛知県",
            "メール",
            "商標",
            "商標",
            "1.5時間",
            "商標の出願について相談。",
            "",
            "",
            "",
            "",
        ],
        # 6: the day after 平成 ended
        [
            "平成31年5月1日",
            "",
            "株式会社テスト工業",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            "相談",
            "",
            "",
            "",
            "",
        ],
        # 7: three unreadable cells
        [
            "2024/4/1",
            "",
            "株式会社ガンマ",
            "",
            "大阪府",
            "伝書鳩",
            "宇宙",
            "",
            "長め",
            "内容",
            "",
            "",
            "",
            "",
        ],
        # 8: a 法人番号 with a wrong check digit
        [
            45383,
            "",
            "有限会社デルタ",
            "1180301018772",
            "北海道",
            "訪問",
            "特許",
            "",
            "60",
            "出張相談",
            "",
            "",
            "",
            "",
        ],
        # 9: an Excel serial date, a new company, written by a colleague
        [
            45383,
            "",
            "有限会社デルタ",
            "",
            "北海道",
            "訪問",
            "特許",
            "",
            "60",
            "出張相談",
            "",
            "",
            staff_username,
            "",
        ],
        # 10: a date in the future
        [
            "2030/1/1",
            "",
            "株式会社テスト工業",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            "未来の相談",
            "",
            "",
            "",
            "",
        ],
        # 11: a new company without its prefecture
        [
            "2024/4/2",
            "",
            "新会社",
            "",
            "",
            "来所",
            "特許",
            "",
            "60",
            "相談",
            "",
            "",
            "",
            "",
        ],
    ]


def xlsx_bytes(rows: Sequence[Sequence[Any]], header: Sequence[str] = HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "相談記録"
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    # A formula is read for its value only (none cached: an empty cell).
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Sequence[Sequence[Any]],
    header: Sequence[str] = HEADER,
    encoding: str = "cp932",
) -> bytes:
    import csv

    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)
