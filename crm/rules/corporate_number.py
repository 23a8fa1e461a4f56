"""法人番号 (corporate number): normalising what people type and checking the check digit.

A 法人番号 is the one identifier that confirms two records are the same company
(reference/houjin_bangou.md). Pure Python, no Django, so models, services, the NTA
importer and tests share one implementation.
"""

from __future__ import annotations

import re
import unicodedata

from crm.rules.names import ZERO_WIDTH

__all__ = [
    "corporate_number_check_digit",
    "is_valid_corporate_number",
    "normalise_corporate_number",
]

# Hyphen and dash look-alikes people type between digit groups ("1-1300-0101-1420").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\ufe58\ufe63\uff0d\uff70"
_CORPORATE_NUMBER_SEPARATORS = re.compile(f"[\\s{re.escape(_DASHES + ZERO_WIDTH)}]+")
_CORPORATE_NUMBER_LENGTH = 13


def normalise_corporate_number(value: str) -> str:
    """Return the digits of a typed 法人番号, which may still be invalid.

    Full-width digits become ASCII (NFKC), surrounding and inner spaces and hyphens go,
    and a leading "T" is dropped: an invoice registration number (適格請求書発行事業者
    登録番号) of a corporation is "T" + 法人番号 (reference/houjin_bangou.md §1).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if text[:1] in ("T", "t"):
        text = text[1:]
    return _CORPORATE_NUMBER_SEPARATORS.sub("", text)


def corporate_number_check_digit(base12: str) -> int:
    """Return the check digit (1–9) of a 12-digit base number (基礎番号).

    法人番号の指定等に関する省令 第2条: 9 − (Σ Pn × Qn mod 9), where Pn is the n-th
    digit counted from the right and Qn is 1 for odd n and 2 for even n; the mod
    applies to the whole sum (reference/houjin_bangou.md §2).

    Raises:
        ValueError: if *base12* is not exactly 12 ASCII digits.
    """
    if len(base12) != _CORPORATE_NUMBER_LENGTH - 1 or not _is_ascii_digits(base12):
        raise ValueError(f"base number must be 12 ASCII digits, got {base12!r}")
    total = sum(
        int(digit) * (2 if n % 2 == 0 else 1)
        for n, digit in enumerate(reversed(base12), start=1)
    )
    return 9 - total % 9


def is_valid_corporate_number(value: str) -> bool:
    """Return whether *value* is a well-formed 法人番号 (13 digits, check digit first).

    Well-formed is not the same as existing: only NTA data proves that
    (reference/houjin_bangou.md §2).
    """
    number = normalise_corporate_number(value)
    if len(number) != _CORPORATE_NUMBER_LENGTH or not _is_ascii_digits(number):
        return False
    return int(number[0]) == corporate_number_check_digit(number[1:])


def _is_ascii_digits(text: str) -> bool:
    """Return whether *text* is non-empty and made of ASCII digits only."""
    # str.isdigit() alone would also accept "١" or "²".
    return text.isascii() and text.isdigit()
