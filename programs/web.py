"""Web UI of programs: the program list, a page per program, subsidy estimates.

Views are adapters, like crm/web.py's: they read through programs/selectors.py
(enrolments the user may not see are left out) and call programs/services/;
the estimate writes nothing. Enrolment pages, applying and referring are in
programs/web_enrolments.py. The rules are shown as Japanese text built from
`Program.rules`, the same data the services enforce.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import selectors as crm_selectors
from crm.choices import CompanyKind, IpType, SizeClass
from crm.forms import add_domain_error
from crm.models import Company
from programs import selectors
from programs.choices import EnrolmentStatus, ProgramKind, Scheme, TeamRole
from programs.forms import EstimateForm, EstimateItemFormSet
from programs.models import Program
from programs.services import eligibility, subsidies
from programs.text import yen_text
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label
from support_network.errors import DomainError
from support_network.web import web_actor

S = EnrolmentStatus

# How many enrolments of one status a program page lists.
ENROLMENTS_PER_STATUS = 50


# --- Rules as text -----------------------------------------------------------------


def eligibility_text(program: Program) -> str:
    """Return who may apply for program, in one line of Japanese."""
    rules = program.rules
    parts = []
    if rules.get("eligible_description"):
        parts.append(rules["eligible_description"])
    elif rules.get("eligible_company_kinds"):
        parts.append(
            "、".join(
                str(CompanyKind(k).label)
                for k in rules["eligible_company_kinds"]
                if k in CompanyKind.values
            )
        )
    if rules.get("requires_startup"):
        parts.append(_("スタートアップ（特許庁の定義: 設立10年未満など）に限る"))
    if rules.get("requires_size_class"):
        parts.append(
            _("規模: %(classes)s")
            % {
                "classes": "、".join(
                    str(SizeClass(c).label) for c in rules["requires_size_class"]
                )
            }
        )
    described = rules.get("eligible_description", "")
    if rules.get("requires_national_project") and "国プロ" not in described:
        parts.append(_("国プロ（競争的研究費による研究開発）を推進する機関"))
    if rules.get("excludes_deemed_large"):
        parts.append(_("みなし大企業（大企業の支配下にある中小企業）は対象外"))
    for condition in rules.get("conditions") or []:
        parts.append(_("要確認: %(label)s") % {"label": condition["label"]})
    return " ／ ".join(parts) or "—"


def duration_text(program: Program) -> str:
    """Return how long support lasts, e.g. "5か月" or "10か月（継続可）"."""
    months = program.rules.get("duration_months")
    if not months:
        return "—"
    text = _("%(months)sか月") % {"months": months}
    if program.rules.get("continuation"):
        text += _("（継続可）")
    return text


def _rate_text(rate) -> str:
    return f"{rate[0]}/{rate[1]}"


def rules_summary(program: Program) -> list[tuple[str, str]]:
    """Return the program's rules as (heading, Japanese text) rows."""
    rules = program.rules
    rows = [
        (_("実施機関"), program.operator.name),
        (_("対象"), eligibility_text(program)),
    ]
    if rules.get("duration_months"):
        rows.append((_("支援期間"), duration_text(program)))
    if rules.get("continuation"):
        text = _("継続支援あり")
        if rules.get("continuation_requires_plan_achieved"):
            text += _("（前の支援期の支援計画の達成が条件）")
        rows.append((_("継続"), text))
    quota = rules.get("day_quota")
    if quota:
        if quota.get("per") == "fiscal_year":
            text = _("年度ごとに最大%(days)s日") % {"days": quota["days"]}
        else:
            text = _("支援期ごとに最大%(days)s日") % {"days": quota["days"]}
        if quota.get("min_configurable") is not None:
            text += _("（支援計画で%(low)s〜%(high)s日に設定できます）") % {
                "low": quota["min_configurable"],
                "high": quota["days"],
            }
        rows.append((_("支援日数"), text))
    if rules.get("requires_support_plan"):
        rows.append(
            (_("支援計画"), _("支援開始時に目標を定める（支援日の記録より前に必要）"))
        )
    if rules.get("team"):
        rows.append(
            (
                _("支援チーム"),
                " ＋ ".join(
                    str(TeamRole(r).label)
                    for r in rules["team"]
                    if r in TeamRole.values
                ),
            )
        )
    for number, scheme in (rules.get("schemes") or {}).items():
        label = Scheme(number).label if number in Scheme.values else number
        text = scheme.get("name", "")
        if scheme.get("min_joint_research_yen_per_year") is not None:
            text += _("（企業との共同研究費が年間%(yen)s以上）") % {
                "yen": yen_text(scheme["min_joint_research_yen_per_year"])
            }
        if scheme.get("accepts_new_applications") is False:
            text += _("（新規申込なし）")
        rows.append((_("類型%(label)s") % {"label": label}, text))
    subsidy = rules.get("subsidy")
    if subsidy:
        unit = subsidy.get("round_down_to") or 1
        text = (
            _("%(rate)s（%(unit)s未満切り捨て）")
            % {"rate": _rate_text(subsidy["rate"]), "unit": yen_text(unit)}
            if unit > 1
            else _("%(rate)s（円未満切り捨て）") % {"rate": _rate_text(subsidy["rate"])}
        )
        if subsidy.get("renewal_rate"):
            text += _("、更新時 %(rate)s") % {
                "rate": _rate_text(subsidy["renewal_rate"])
            }
        rows.append((_("補助率"), text))
        per_case = subsidy.get("cap_per_case_yen") or {}
        if per_case:
            rows.append(
                (
                    _("1件あたりの上限"),
                    "、".join(
                        f"{IpType(r).label if r in IpType.values else r} {yen_text(v)}"
                        for r, v in sorted(
                            per_case.items(), key=lambda kv: (-kv[1], kv[0])
                        )
                    )
                    + (
                        _("、冒認対策商標 %(yen)s")
                        % {
                            "yen": yen_text(
                                subsidy["squatting_countermeasure"]["cap_per_case_yen"]
                            )
                        }
                        if subsidy.get("squatting_countermeasure")
                        else ""
                    ),
                )
            )
        if "cap_per_company_per_fiscal_year_yen" in subsidy:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("年度ごとに%(yen)s（同じ年度の交付済み額を差し引きます）")
                    % {"yen": yen_text(subsidy["cap_per_company_per_fiscal_year_yen"])},
                )
            )
        elif subsidy.get("cap_per_company_yen") is not None:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("%(yen)s（交付済み額を差し引きます）")
                    % {"yen": yen_text(subsidy["cap_per_company_yen"])},
                )
            )
        else:
            rows.append((_("1企業あたりの上限"), _("なし")))
    if rules.get("eligible_costs"):
        rows.append((_("対象経費"), rules["eligible_costs"]))
    if rules.get("implementing_bodies"):
        rows.append((_("補助事業者"), rules["implementing_bodies"]))
    return rows


# --- Program list and program page ----------------------------------------------------


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


def fiscal_year_choices(years) -> list[tuple[int, str]]:
    return [(fy, fiscal_year_label(fy)) for fy in sorted(set(years))]


def _estimate_company(actor, request) -> Company | None:
    """Return the company of ?company= when the actor may see its data, else None."""
    pk = request.POST.get("company") or request.GET.get("company")
    if not pk or not str(pk).isdigit():
        return None
    return (
        crm_selectors.companies_visible_to(actor)
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
        % {"rate": _rate_text(subsidy["rate"])}
        if unit == 1
        else _("補助率 %(rate)s を費用に掛け、%(unit)s未満は切り捨てます。")
        % {"rate": _rate_text(subsidy["rate"]), "unit": yen_text(unit)}
    ]
    if subsidy.get("renewal_rate"):
        lines.append(
            _("更新の掛金は %(rate)s です。")
            % {"rate": _rate_text(subsidy["renewal_rate"])}
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
