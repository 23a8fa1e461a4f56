"""Display filters of client records: amounts in yen, JSIC codes with their names."""

from __future__ import annotations

from django import template

from crm.rules import industries
from support_network.calendar import date_text

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


# One date and one datetime spelling in the whole UI (docs/dates.md):
# 2026/12/9 and 2026/12/9 14:05, with a Japanese weekday where one helps
# (2026/12/9（水）). Written out here, not through Django's |date, so the
# weekday never follows the browser's language (Accept-Language: en would
# make |date:"D" say "Wed" inside a Japanese date).
WEEKDAYS = "月火水木金土日"


def _local(value):
    """Return a datetime in Tokyo time (aware ones converted), dates as they are."""
    import datetime as dt

    from django.utils import timezone

    if isinstance(value, dt.datetime):
        return timezone.localtime(value) if timezone.is_aware(value) else value
    return value


@register.filter
def ymd(value) -> str:
    """Return a date (or the day of a datetime) as 2026/12/9; "" for none."""
    return date_text(_local(value))


@register.filter
def ymd_weekday(value) -> str:
    """Return a date as 2026/12/9（水）: the weekday in Japanese, whatever the language."""
    value = _local(value)
    if not value:
        return ""
    return f"{ymd(value)}（{WEEKDAYS[value.weekday()]}）"


@register.filter
def ymd_hm(value) -> str:
    """Return a datetime in Tokyo time as 2026/12/9 14:05; "" for none."""
    value = _local(value)
    if not value:
        return ""
    return f"{ymd(value)} {value.hour:02d}:{value.minute:02d}"
