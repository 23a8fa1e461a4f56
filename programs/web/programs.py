"""Web UI of programs: the program list, a page per program, subsidy estimates.

Views are adapters, like crm's web pages: they read through
programs/selectors.py (enrolments the user may not see are left out) and call
programs/services/; the estimate writes nothing. Enrolment pages are in
programs/web/enrolments.py, applying and referring in
programs/web/applications.py.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import IpType
from crm.models import Company
from crm.selectors.visibility import companies_visible_to
from crm.web.forms import add_domain_error
from programs import selectors
from programs.choices import EnrolmentStatus, ProgramKind
from programs.models import Program
from programs.services import eligibility, subsidies
from programs.text import yen_text
from programs.web.forms import EstimateForm, EstimateItemFormSet, fiscal_year_choices
from programs.web.rules_text import (
    duration_text,
    eligibility_text,
    rate_text,
    rules_summary,
)
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label
from support_network.errors import DomainError
from support_network.web.actors import web_actor

S = EnrolmentStatus

# How many enrolments of one status a program page lists.
ENROLMENTS_PER_STATUS = 50


@login_required
def program_list(request):
    """List the programs: operator, who may apply, duration, this year's seats."""
    web_actor(request)
    fy = fiscal_year_of(timezone.localdate())
    programs = list(selectors.programs_list())
    rows = []
    for program in programs:
        current = next(
            (
                u
                for u in selectors.rounds_with_use(program)
                if u.round.fiscal_year == fy
            ),
            None,
        )
        rows.append(
            {
                "program": program,
                "eligibility": eligibility_text(program),
                "duration": duration_text(program),
                "current": current,
            }
        )
    return render(
        request,
        "programs/program_list.html",
        {
            "enrolment_rows": [r for r in rows if r["program"].kind != "subsidy"],
            "subsidy_rows": [r for r in rows if r["program"].kind == "subsidy"],
            "fiscal_year_label": fiscal_year_label(fy),
        },
    )


def _estimate_company(actor, request) -> Company | None:
    """Return the company of ?company= when the actor may see its data, else None."""
    pk = request.POST.get("company") or request.GET.get("company")
    if not pk or not str(pk).isdigit():
        return None
    return (
        companies_visible_to(actor)
        .filter(pk=pk, has_private_access=True)
        .first()
    )


@login_required
def program_detail(request, code: str):
    """Show a program: rules, rounds with seats taken, the enrolments the user sees.

    A subsidy program shows an estimate form instead of enrolments; posting
    it runs the estimate (nothing is written) and explains it line by line.
    """
    actor = web_actor(request)
    program = get_object_or_404(selectors.programs_list(), code=code)
    if request.method not in ("GET", "HEAD") and program.kind != ProgramKind.SUBSIDY:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    today = timezone.localdate()
    context: dict[str, Any] = {
        "program": program,
        "rules": rules_summary(program),
        "rounds": [
            {"use": u, "label": fiscal_year_label(u.round.fiscal_year)}
            for u in selectors.rounds_with_use(program)
        ],
        "is_operator_staff": selectors.is_operator_staff(actor, program),
    }
    status = 200
    if program.kind == ProgramKind.SUBSIDY:
        context.update(_estimate_context(request, actor, program, today))
        status = context.pop("status")
    else:
        visible = selectors.program_enrolments_visible_to(actor, program)
        context["by_status"] = [
            {
                "status": value,
                "label": label,
                "enrolments": list(
                    visible.filter(status=value)[:ENROLMENTS_PER_STATUS]
                ),
                "count": visible.filter(status=value).count(),
            }
            for value, label in S.choices
        ]
        context["limit"] = ENROLMENTS_PER_STATUS
        context["visible_total"] = sum(g["count"] for g in context["by_status"])
    return render(request, "programs/program_detail.html", context, status=status)


def _estimate_context(request, actor, program: Program, today) -> dict[str, Any]:
    subsidy = program.rules.get("subsidy") or {}
    fy_now = fiscal_year_of(today)
    company = _estimate_company(actor, request)
    rights = subsidies.subsidy_rights(program)
    form_kwargs = {
        "right_choices": [(r, IpType(r).label) for r in rights if r in IpType.values],
        "has_renewal": bool(subsidy.get("renewal_rate")),
        "has_squatting_countermeasure": bool(subsidy.get("squatting_countermeasure")),
    }
    data = request.POST if request.method == "POST" else None
    form = EstimateForm(
        data,
        initial={"fiscal_year": fy_now},
        fiscal_year_choices=fiscal_year_choices([fy_now - 1, fy_now, fy_now + 1]),
        condition_choices=[
            (c["code"], c["label"]) for c in eligibility.program_conditions(program)
        ],
    )
    items = EstimateItemFormSet(data, prefix="items", form_kwargs=form_kwargs)
    context: dict[str, Any] = {
        "estimate_form": form,
        "items": items,
        "estimate_company": company,
        "result": None,
        "status": 200,
    }
    if data is None:
        return context
    if not (form.is_valid() and items.is_valid()):
        context["status"] = 400
        return context
    rows = [
        {
            "right": f.cleaned_data["right"],
            "cost_yen": f.cleaned_data["cost_yen"],
            "renewal": bool(f.cleaned_data.get("renewal")),
            "squatting_countermeasure": bool(
                f.cleaned_data.get("squatting_countermeasure")
            ),
        }
        for f in items.forms
        if f.cleaned_data.get("cost_yen") is not None
    ]
    granted = form.cleaned_data["already_granted_yen"]
    try:
        result = subsidies.subsidy_estimate(
            program=program,
            fiscal_year=form.cleaned_data["fiscal_year"],
            items=rows,
            company=company,
            actor=actor if company is not None else None,
            already_granted_yen=granted if company is None else None,
            confirmed_conditions=form.cleaned_data.get("confirmed_conditions") or (),
            today=today,
        )
    except DomainError as exc:
        add_domain_error(form, exc, {"items": None, "company": None})
        context["status"] = 400
        return context
    for item in result["items"]:
        item["eligible_text"] = yen_text(item["eligible_yen"])
    context["result"] = result
    context["total_text"] = yen_text(result["total_yen"])
    context["lines"] = _estimate_lines(program, result, form.cleaned_data)
    return context


def _estimate_lines(program: Program, result: dict, cleaned: dict) -> list[str]:
    """Return the estimate explained in Japanese sentences, one per step."""
    subsidy = program.rules["subsidy"]
    unit = subsidy.get("round_down_to") or 1
    lines = [
        _(
            "補助率 %(rate)s を費用に掛け、1円未満は切り捨てます"
            "（例: 1,000,001円 × 1/2 = 500,000円）。"
        )
        % {"rate": rate_text(subsidy["rate"])}
        if unit == 1
        else _("補助率 %(rate)s を費用に掛け、%(unit)s未満は切り捨てます。")
        % {"rate": rate_text(subsidy["rate"]), "unit": yen_text(unit)}
    ]
    if subsidy.get("renewal_rate"):
        lines.append(
            _("更新の掛金は %(rate)s です。")
            % {"rate": rate_text(subsidy["renewal_rate"])}
        )
    if subsidy.get("cap_per_case_yen"):
        lines.append(_("1件ごとに、権利の種類別の1件上限を超える分は補助されません。"))
    cap = result["company_cap_yen"]
    if cap is not None:
        per_year = "cap_per_company_per_fiscal_year_yen" in subsidy
        lines.append(
            _(
                "1企業の%(scope)s上限 %(cap)s − 交付済み %(granted)s = "
                "残り %(remaining)s。上から順に残りの範囲で補助します。"
            )
            % {
                "scope": (
                    _("%(fy)sの") % {"fy": fiscal_year_label(cleaned["fiscal_year"])}
                    if per_year
                    else ""
                ),
                "cap": yen_text(cap),
                "granted": yen_text(result["already_granted_yen"]),
                "remaining": yen_text(result["company_cap_remaining_yen"]),
            }
        )
    else:
        lines.append(_("1企業あたりの上限はありません。"))
    lines.append(
        _("補助見込額の合計: %(total)s（交付を約束するものではありません）。")
        % {"total": yen_text(result["total_yen"])}
    )
    return lines
