"""Display filters of client records: amounts in yen, JSIC codes with their names."""

from __future__ import annotations

from django import template

from crm.rules import industries

register = template.Library()


@register.filter
def digits(value) -> str:
    """Return an integer with its digits grouped in threes: 12345678 → "12,345,678".

    Japanese amounts are grouped with commas whatever the locale, so the
    figure reads the same on every page and in every export.
    """
    if value is None or value == "":
        return ""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def industry_label(code) -> str:
    """Return a JSIC code with its Japanese name: "391 ソフトウェア業（G 情報通信業）"."""
    return industries.industry_label(code)
