"""Who may use a program: company kind, size, startup, conditions and schemes.

The rules are data in `Program.rules`, seeded from seeds/data/programs.json
(reference/programs.md), so an administrator can change a rule without a
release. Applying (programs/services/enrolments.py) and the subsidy estimate
(programs/services/subsidies.py) ask the same refusals here; a refusal is
400 not_eligible with the reason in Japanese.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from crm.choices import CompanyKind, SizeClass
from crm.models import Company
from crm.rules.company_size import is_startup
from crm.selectors.visibility import companies_visible_to
from crm.services.companies import size_class_hint
from programs.choices import Scheme
from programs.models import Program
from programs.text import program_name, yen_text
from support_network.actors import Actor
from support_network.errors import ValidationFailed


def _scheme_rules(program: Program, scheme: str | None) -> dict[str, Any]:
    return (program.rules.get("schemes") or {}).get(scheme or "", {}) or {}


def _scheme_text(program: Program, scheme: str) -> str:
    name = _scheme_rules(program, scheme).get("name", "")
    label = Scheme(scheme).label if scheme in Scheme.values else scheme
    return _("類型%(label)s（%(name)s）") % {"label": label, "name": name}


def applicant_company_get(actor: Actor, company: Company | int | str) -> Company:
    """Return the company if the actor may see its non-public data, else 400."""
    pk = company.pk if isinstance(company, Company) else company
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = (
        companies_visible_to(actor).filter(pk=pk, has_private_access=True).first()
        if pk is not None
        else None
    )
    if found is None:
        raise ValidationFailed(_("企業等が見つかりません。"), field="company")
    return found


def _eligible_kinds(rules: dict[str, Any], fiscal_year: int | None) -> list[str]:
    """Return the company kinds a program admits in fiscal_year.

    `eligible_company_kinds_from_fiscal_year` ({"2025": [...]}) widens the kinds
    from a year on (VC-IPAS admits accelerators and ecosystem builders from FY2025);
    without a year the base list applies.
    """
    kinds = list(rules.get("eligible_company_kinds") or [])
    widened = rules.get("eligible_company_kinds_from_fiscal_year") or {}
    if fiscal_year is not None:
        for year in sorted(widened, key=int):
            if fiscal_year >= int(year):
                kinds = list(widened[year])
    return kinds


def program_conditions(
    program: Program, *, kind: str | None = None, fiscal_year: int | None = None
) -> list[dict[str, Any]]:
    """Return the checked eligibility conditions of program that apply.

    `rules.conditions` lists {code, label, kinds?, from_fiscal_year?}: facts the
    CRM does not hold (membership of 日商・全国連・中央会 for 海外知財訴訟保険, being
    an accelerator for VC-IPAS) that the applicant confirms (confirmed_conditions).
    With kind / fiscal_year only the conditions that apply to them.
    """
    found = []
    for condition in program.rules.get("conditions") or []:
        kinds = condition.get("kinds")
        if kind is not None and kinds and kind not in kinds:
            continue
        since = condition.get("from_fiscal_year")
        if fiscal_year is not None and since is not None and fiscal_year < since:
            continue
        found.append(condition)
    return found


def conditions_refusal(
    program: Program,
    company: Company,
    *,
    fiscal_year: int | None,
    confirmed_conditions: Iterable[str] | None,
) -> NotEligible | None:
    """Return the refusal for the first applying condition not confirmed, or None."""
    confirmed = set(confirmed_conditions or ())
    for condition in program_conditions(
        program, kind=company.kind, fiscal_year=fiscal_year
    ):
        if condition["code"] not in confirmed:
            return NotEligible(
                _(
                    "%(program)sの対象は、%(condition)s企業等です。"
                    "該当することを確認してください（confirmed_conditions: %(code)s）。"
                )
                % {
                    "program": program_name(program),
                    "condition": condition["label"].removesuffix("であること")
                    + "である",
                    "code": condition["code"],
                },
                about="confirmed_conditions",
            )
    return None


def company_refusal(
    program: Program,
    company: Company,
    *,
    today: date,
    fiscal_year: int | None = None,
) -> str | None:
    """Return why company may not use program (kind, みなし大企業, startup, size)."""
    rules = program.rules
    name = program_name(program)
    kinds = _eligible_kinds(rules, fiscal_year)
    if kinds and company.kind not in kinds:
        return _("%(program)sの対象は%(kinds)sです（この企業等の種別: %(kind)s）。") % {
            "program": name,
            "kinds": "、".join(str(CompanyKind(k).label) for k in kinds),
            "kind": company.get_kind_display(),
        }
    if rules.get("excludes_deemed_large") and company.controlled_by_large_company:
        return _(
            "%(program)sは、大企業の支配下にある中小企業（みなし大企業: 大企業が"
            "株式の1/2以上を保有している等）を対象としていません。"
        ) % {"program": name}
    if rules.get("requires_startup") and not is_startup(
        kind=company.kind,
        founded_on=company.founded_on,
        employees=company.employees,
        capital_yen=company.capital_yen,
        industry=company.industry or None,
        controlled_by_large_company=company.controlled_by_large_company,
        today=today,
    ):
        return _(
            "%(program)sの対象はスタートアップ（設立10年未満で大企業の支配下になく、"
            "従業員20人以下（商業・サービス業は5人以下）または資本金3億円以下）です。"
            "この企業等は該当しません。"
        ) % {"program": name}
    classes = rules.get("requires_size_class")
    applies_to = rules.get("size_class_applies_to")
    if (
        classes
        and (applies_to is None or company.kind in applies_to)
        and company.size_class not in classes
    ):
        message = _(
            "%(program)sの対象は%(classes)sです（この企業等の規模区分: %(size)s）。"
        ) % {
            "program": name,
            "classes": "、".join(str(SizeClass(c).label) for c in classes),
            "size": company.get_size_class_display(),
        }
        if company.size_class == SizeClass.UNKNOWN:
            message += size_class_hint(company) or _(
                "資本金・従業員数・業種を登録すると規模区分を判定できます。"
            )
        return message
    return None


def scheme_refusal(
    program: Program,
    scheme: str,
    *,
    joint_research_yen_per_year: int | None,
) -> NotEligible | None:
    """Return why the scheme is closed to this application, or None."""
    scheme_rules = _scheme_rules(program, scheme)
    if scheme_rules.get("accepts_new_applications") is False:
        return NotEligible(
            _("%(program)sの%(scheme)sは新規の申込を受け付けていません。")
            % {
                "program": program_name(program),
                "scheme": _scheme_text(program, scheme),
            },
            about="scheme",
        )
    minimum = scheme_rules.get("min_joint_research_yen_per_year")
    if minimum is not None and (joint_research_yen_per_year or 0) < minimum:
        return NotEligible(
            _(
                "%(program)sの%(scheme)sは、企業との共同研究費が年間%(minimum)s以上の"
                "場合に限られます（申込の共同研究費: 年間%(amount)s）。"
            )
            % {
                "program": program_name(program),
                "scheme": _scheme_text(program, scheme),
                "minimum": yen_text(minimum),
                "amount": yen_text(joint_research_yen_per_year or 0),
            },
            about="joint_research_yen_per_year",
        )
    return None


class NotEligible(ValidationFailed):
    """400 not_eligible: a rule of the program refuses this application.

    `about` names the input the refusal is about ("company", "scheme",
    "joint_research_yen_per_year", "is_national_project", "program"), so
    the web form shows the reason beside that field; the API body stays
    `{"detail", "code"}`.
    """

    def __init__(self, detail: str, *, about: str = "company") -> None:
        super().__init__(detail, code="not_eligible")
        self.about = about


def not_eligible(reason: str, about: str = "company") -> NotEligible:
    return NotEligible(reason, about=about)


def scheme_validate(
    program: Program, scheme: str | None, joint_research_yen_per_year: int | None
) -> str:
    """Check the shape of scheme input against the program; return the scheme."""
    schemes = program.rules.get("schemes") or {}
    scheme = scheme or ""
    if not schemes:
        if scheme:
            raise ValidationFailed(
                _("%(program)sには類型がありません。")
                % {"program": program_name(program)},
                field="scheme",
            )
        return ""
    if scheme not in schemes:
        raise ValidationFailed(
            _("%(program)sの類型（%(choices)s）を選んでください。")
            % {"program": program_name(program), "choices": "、".join(schemes)},
            field="scheme",
        )
    needs_amount = "min_joint_research_yen_per_year" in schemes[scheme]
    if needs_amount and joint_research_yen_per_year is None:
        raise ValidationFailed(
            _("%(scheme)sでは年間の共同研究費（円）を入力してください。")
            % {"scheme": _scheme_text(program, scheme)},
            field="joint_research_yen_per_year",
        )
    return scheme
