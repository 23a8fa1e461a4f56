"""Subsidy estimates: what a subsidy program would pay for cost items.

Nothing is written. Rates, per-case and per-company caps and rounding are
data in `Program.rules["subsidy"]`; the company's eligibility is asked of
programs/services/eligibility.py, as for an application.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import IpType
from crm.models import Company
from programs.choices import ProgramKind
from programs.models import Program
from programs.selectors import subsidy_granted_yen
from programs.services.eligibility import (
    applicant_company_get,
    company_refusal,
    conditions_refusal,
    not_eligible,
)
from programs.text import program_name, yen_text
from support_network.actors import Actor
from support_network.errors import ValidationFailed


def _allowed_rights(subsidy: dict[str, Any]) -> list[str]:
    """Return the IP rights a subsidy's items may name.

    The per-case caps list them when present (外国出願: patent, utility
    model, design, trademark); `subsidy.rights` may list them otherwise;
    with neither, any IP type is accepted.
    """
    rights = list(subsidy.get("cap_per_case_yen") or subsidy.get("rights") or [])
    if not rights:
        return list(IpType.values)
    # JSONB does not keep the order of object keys: show them in IpType order.
    return sorted(
        rights, key=lambda r: IpType.values.index(r) if r in IpType.values else 99
    )


def subsidy_rights(program: Program) -> list[str]:
    """Return the IP rights the cost items of a subsidy program may name."""
    return _allowed_rights(program.rules.get("subsidy") or {})


def _right_label(right: str) -> str:
    return str(IpType(right).label) if right in IpType.values else right


def _clean_items(
    items: list[dict[str, Any]], subsidy: dict[str, Any]
) -> list[tuple[str, int, bool, bool]]:
    if not items:
        raise ValidationFailed(
            _("見積もる費用を1件以上入力してください。"), field="items"
        )
    allowed = _allowed_rights(subsidy)
    cleaned = []
    for number, item in enumerate(items, start=1):
        right = item.get("right")
        cost = item.get("cost_yen")
        renewal = bool(item.get("renewal") or False)
        squatting = bool(item.get("squatting_countermeasure") or False)
        if right not in allowed:
            raise ValidationFailed(
                _(
                    "%(number)s件目: 「%(right)s」はこの補助金の対象の権利ではありません"
                    "（対象: %(allowed)s）。"
                )
                % {
                    "number": number,
                    "right": right,
                    "allowed": "、".join(_right_label(r) for r in allowed),
                },
                field="items",
            )
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 0:
            raise ValidationFailed(
                _("%(number)s件目: 費用は0円以上の整数（円）で入力してください。")
                % {"number": number},
                field="items",
            )
        if renewal and not subsidy.get("renewal_rate"):
            raise ValidationFailed(
                _("%(number)s件目: この補助金には更新（renewal）の区分がありません。")
                % {"number": number},
                field="items",
            )
        special = subsidy.get("squatting_countermeasure")
        if squatting and special is None:
            raise ValidationFailed(
                _("%(number)s件目: この補助金には冒認対策の区分がありません。")
                % {"number": number},
                field="items",
            )
        if squatting and special.get("right") != right:
            raise ValidationFailed(
                _("%(number)s件目: 冒認対策の区分は%(right)sだけです。")
                % {"number": number, "right": _right_label(special["right"])},
                field="items",
            )
        cleaned.append((right, cost, renewal, squatting))
    return cleaned


def _round_down_unit(subsidy: dict[str, Any]) -> int:
    """Return the yen unit a subsidy rounds down to (`round_down_to`, default 1).

    1円未満切り捨て is the default; some implementing bodies round to 千円
    (`"round_down_to": 1000`).
    """
    unit = subsidy.get("round_down_to") or 1
    if isinstance(unit, bool) or not isinstance(unit, int) or unit < 1:
        raise ValueError(f"round_down_to must be a positive integer, got {unit!r}")
    return unit


def subsidy_estimate(
    *,
    program: Program,
    fiscal_year: int,
    items: list[dict[str, Any]],
    company: Company | int | None = None,
    actor: Actor | None = None,
    already_granted_yen: int | None = None,
    confirmed_conditions: Iterable[str] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """Estimate the subsidy of program for cost items; nothing is written.

    Amounts are integer yen rounded down (cost × numerator // denominator; to
    a multiple of `round_down_to` yen when the program sets it, e.g. 1,000),
    then capped per case (`cap_per_case_yen` by right; an item flagged
    `squatting_countermeasure` — 冒認対策商標 — by `squatting_countermeasure.
    cap_per_case_yen` instead) and per company: a
    `cap_per_company_per_fiscal_year_yen` counts grants of fiscal_year, a
    `cap_per_company_yen` grants of any year (the seeds do not scope it).
    Grants are crm outcomes of kind "subsidy" whose reference is the program
    code (programs.selectors.subsidy_granted_yen), unless already_granted_yen
    is given. With company (an id resolved through actor's visibility, or a
    Company) its kind and size must be eligible (400 not_eligible).

    Return {"items": [{right, cost_yen, renewal, squatting_countermeasure, rate, eligible_yen,
    explanation}], "total_yen", "company_cap_yen", "already_granted_yen",
    "company_cap_remaining_yen"}; the remaining cap is before this estimate
    (None without a per-company cap).
    """
    today = today or timezone.localdate()
    name = program_name(program)
    if program.kind != ProgramKind.SUBSIDY or not program.rules.get("subsidy"):
        raise not_eligible(
            _("%(program)sは補助金ではないため、見積もりできません。")
            % {"program": name},
            "program",
        )
    subsidy = program.rules["subsidy"]
    if company is not None:
        if actor is not None:
            company = applicant_company_get(actor, company)
        elif not isinstance(company, Company):
            raise ValueError("a company id needs the actor to resolve it")
        reason = company_refusal(program, company, today=today, fiscal_year=fiscal_year)
        if reason is not None:
            raise not_eligible(reason)
        refusal = conditions_refusal(
            program,
            company,
            fiscal_year=fiscal_year,
            confirmed_conditions=confirmed_conditions,
        )
        if refusal is not None:
            raise refusal
    cleaned = _clean_items(items, subsidy)

    if "cap_per_company_per_fiscal_year_yen" in subsidy:
        company_cap = subsidy["cap_per_company_per_fiscal_year_yen"]
        cap_text = _("1企業の年度上限")
        cap_year = fiscal_year
    else:
        company_cap = subsidy.get("cap_per_company_yen")
        cap_text = _("1企業の上限")
        cap_year = None
    if already_granted_yen is None:
        already_granted_yen = (
            subsidy_granted_yen(company=company, program=program, fiscal_year=cap_year)
            if company is not None and company_cap is not None
            else 0
        )
    remaining = (
        max(company_cap - already_granted_yen, 0) if company_cap is not None else None
    )

    per_case = subsidy.get("cap_per_case_yen") or {}
    squatting_rule = subsidy.get("squatting_countermeasure") or {}
    unit = _round_down_unit(subsidy)
    room = remaining
    results = []
    for right, cost, renewal, squatting in cleaned:
        numerator, denominator = subsidy["renewal_rate" if renewal else "rate"]
        amount = cost * numerator // denominator // unit * unit
        label = _right_label(right)
        if renewal:
            label = _("%(label)s（更新）") % {"label": label}
        if squatting:
            label = _("冒認対策%(label)s") % {"label": label}
        explanation = _("%(label)s: %(cost)s × %(n)s/%(d)s = %(amount)s") % {
            "label": label,
            "cost": yen_text(cost),
            "n": numerator,
            "d": denominator,
            "amount": yen_text(amount),
        }
        if unit > 1:
            explanation += _("（%(unit)s未満切り捨て）") % {"unit": yen_text(unit)}
        case_cap = (
            squatting_rule["cap_per_case_yen"] if squatting else per_case.get(right)
        )
        if case_cap is not None:
            if amount > case_cap:
                amount = case_cap
                explanation += " → " + yen_text(amount)
            explanation += _("（1件上限 %(cap)s）") % {"cap": yen_text(case_cap)}
        if room is not None:
            if amount > room:
                amount = room
                explanation += _(
                    " → %(amount)s（%(cap_text)s %(cap)sの残り %(room)s）"
                ) % {
                    "amount": yen_text(amount),
                    "cap_text": cap_text,
                    "cap": yen_text(company_cap),
                    "room": yen_text(room),
                }
            room -= amount
        results.append(
            {
                "right": right,
                "cost_yen": cost,
                "renewal": renewal,
                "squatting_countermeasure": squatting,
                "rate": f"{numerator}/{denominator}",
                "eligible_yen": amount,
                "explanation": explanation,
            }
        )
    return {
        "items": results,
        "total_yen": sum(item["eligible_yen"] for item in results),
        "company_cap_yen": company_cap,
        "already_granted_yen": already_granted_yen,
        "company_cap_remaining_yen": remaining,
    }
