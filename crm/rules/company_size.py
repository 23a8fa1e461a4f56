"""Company size (規模区分: 小規模 / 中小 / 中堅 / 大企業) and the JPO startup status.

Which programmes a company may use depends on its size class under 中小企業基本法 and
on whether it is a startup in the JPO sense (reference/sme_definitions.md). The limits
per industry come from crm.rules.industries. Pure Python, no Django.
"""

from __future__ import annotations

from datetime import date

from crm.rules.industries import (
    GROUP_MANUFACTURING,
    SmeThresholds,
    industry_rules,
    sme_industry_group,
)

__all__ = [
    "KIND_CORPORATION",
    "KIND_SOLE_PROPRIETOR",
    "MIDSIZE_MAX_EMPLOYEES",
    "SIZE_LARGE",
    "SIZE_MICRO",
    "SIZE_MIDSIZE",
    "SIZE_SME",
    "SIZE_UNKNOWN",
    "STARTUP_MAX_AGE_YEARS",
    "STARTUP_MAX_CAPITAL_YEN",
    "STARTUP_MAX_EMPLOYEES",
    "STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE",
    "is_startup",
    "size_class",
]

KIND_CORPORATION = "corporation"
KIND_SOLE_PROPRIETOR = "sole_proprietor"

SIZE_MICRO = "micro"  # 小規模企業者
SIZE_SME = "sme"  # 中小企業者 (not 小規模)
SIZE_MIDSIZE = "midsize"  # 中堅企業者
SIZE_LARGE = "large"  # 大企業
SIZE_UNKNOWN = "unknown"  # not covered, or the data needed to decide is missing

# 中堅企業者: at most 2,000 regular employees and not an SME (改正産業競争力強化法,
# in force 2024-09-02; reference/sme_definitions.md §5).
MIDSIZE_MAX_EMPLOYEES = 2000

# JPO startup (スタートアップ対応早期審査 etc.; reference/sme_definitions.md §4).
STARTUP_MAX_AGE_YEARS = 10
STARTUP_MAX_EMPLOYEES = 20
STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE = 5
STARTUP_MAX_CAPITAL_YEN = 300_000_000


def _check_not_negative(**values: int | None) -> None:
    """Raise ValueError if any of the given counts or amounts is negative."""
    for name, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")


def size_class(
    *, kind: str, industry: str | None, capital_yen: int | None, employees: int | None
) -> str:
    """Return the size class (micro, sme, midsize, large or unknown) of a company.

    Recipe of reference/sme_definitions.md §6: SME if capital or employees are within
    the limits of the JSIC code's most specific rule (its group's, or a cabinet-order
    special case such as ソフトウェア業 3億円/300人); micro if an SME with employees within the 小規模 limit;
    otherwise midsize up to 2,000 employees and large above. Only corporations (会社)
    and sole proprietors (個人) are covered by 中小企業基本法; a sole proprietor has no
    capital, so only the employee test applies. Whenever the data needed for the answer
    is missing the result is "unknown" rather than a guess, and so is it when the
    industry code is too coarse for the figures (``industry_needs_more_detail``).

    Raises:
        ValueError: if *capital_yen* or *employees* is negative.
    """
    _check_not_negative(capital_yen=capital_yen, employees=employees)
    if kind not in (KIND_CORPORATION, KIND_SOLE_PROPRIETOR):
        return SIZE_UNKNOWN
    candidates = industry_rules(industry)
    if not candidates or any(rule.thresholds is None for rule in candidates):
        return SIZE_UNKNOWN
    if kind == KIND_SOLE_PROPRIETOR:
        capital_yen = None
    # A code too coarse to pick one rule (a bare "I") decides only when every rule
    # it may stand for gives the same answer.
    answers = {
        _size_under(rule.thresholds, kind, capital_yen, employees)
        for rule in candidates
        if rule.thresholds is not None
    }
    return answers.pop() if len(answers) == 1 else SIZE_UNKNOWN


def _size_under(
    thresholds: SmeThresholds, kind: str, capital_yen: int | None, employees: int | None
) -> str:
    """Return the size class under one rule's limits (size_class's recipe)."""
    capital_ok = None if capital_yen is None else capital_yen <= thresholds.capital_yen
    employees_ok = None if employees is None else employees <= thresholds.employees

    if capital_ok or employees_ok:
        if employees is None:
            return SIZE_SME
        return SIZE_MICRO if employees <= thresholds.micro_employees else SIZE_SME
    if employees is None or (capital_ok is None and kind == KIND_CORPORATION):
        # One test failed but the other, which could still make it an SME, is unknown.
        return SIZE_UNKNOWN
    return SIZE_MIDSIZE if employees <= MIDSIZE_MAX_EMPLOYEES else SIZE_LARGE


def _add_years(d: date, years: int) -> date:
    """Return the same day *years* later; 29 February maps to 1 March.

    民法第143条第2項: a period counted in years from 29 February ends on the last day of
    February when the final year has no 29th, so the first day outside it is 1 March.
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


def is_startup(
    *,
    kind: str,
    founded_on: date | None,
    employees: int | None,
    capital_yen: int | None,
    industry: str | None,
    controlled_by_large_company: bool,
    today: date,
) -> bool:
    """Return whether the company is a startup in the JPO sense.

    reference/sme_definitions.md §4: an individual within 10 years of starting business,
    or a corporation within 10 years of incorporation, not controlled by a large
    company, with at most 20 regular employees (5 in commerce or services) or capital of
    at most 3億円. "Within 10 years" ends the day before the 10th anniversary: a company
    founded 2016-11-21 is a startup on 2026-11-20 but not on 2026-11-21.

    The 20-employee limit needs the industry group to be known as 製造業その他; with no
    usable industry code only the stricter 5-employee limit is applied, because the
    company may be in commerce or services. Missing data never makes a startup.

    Raises:
        ValueError: if *capital_yen* or *employees* is negative.
    """
    _check_not_negative(capital_yen=capital_yen, employees=employees)
    if kind not in (KIND_CORPORATION, KIND_SOLE_PROPRIETOR) or founded_on is None:
        return False
    # A founding date in the future is a planned business, not yet an applicant.
    if not founded_on <= today < _add_years(founded_on, STARTUP_MAX_AGE_YEARS):
        return False
    if kind == KIND_SOLE_PROPRIETOR:
        return True
    if controlled_by_large_company:
        return False

    if sme_industry_group(industry) == GROUP_MANUFACTURING:
        employee_limit = STARTUP_MAX_EMPLOYEES
    else:
        # Commerce/services, or unknown: only the limit valid for every group is safe.
        employee_limit = STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE
    few_employees = employees is not None and employees <= employee_limit
    small_capital = capital_yen is not None and capital_yen <= STARTUP_MAX_CAPITAL_YEN
    return few_employees or small_capital
