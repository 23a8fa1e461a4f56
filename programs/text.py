"""Japanese text shared by programs' services and web pages: names, yen, days.

Messages of the services and the rules shown on the web pages spell a
program, an amount and a number of days the same way; one function each.
"""

from __future__ import annotations

from decimal import Decimal

from programs.models import Program


def program_name(program: Program) -> str:
    """Return the program's short name (IPAS), else its full name."""
    return program.short_name or program.name


def yen_text(amount: int | None) -> str:
    """Return 1,500,000円 (— for no amount)."""
    return "—" if amount is None else f"{amount:,}円"


def days_text(days: Decimal | None) -> str:
    """Return days without a trailing ".0" (30, 0.5, 29.5; — for none)."""
    return f"{days.normalize():f}" if days is not None else "—"
