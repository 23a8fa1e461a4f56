"""Web UI of programs: program pages, enrolment pages, applying and referring.

Views are adapters, like crm/web.py's: they read through programs/selectors.py
(an enrolment the user may not see is a 404), write through
programs/services.py, and put a DomainError back on the form field it is
about, so a refused submit keeps what was typed and nothing is half-written
(every service runs in one transaction).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.choices import CompanyKind, ConsentScope, IpType, SizeClass
from crm.forms import add_domain_error
from crm.forms_referrals import InlineConsentForm
from crm.models import Case, Company
from programs import selectors, services
from programs.choices import EnrolmentStatus, ProgramKind, Scheme, TeamRole
from programs.forms import (
    EnrolmentApplyForm,
    EstimateForm,
    EstimateItemFormSet,
    ProgramReferralForm,
    SupportDayForm,
    SupportPlanForm,
    TeamMemberForm,
)
from programs.models import Enrolment, Program, ProgramRound, SupportDay, TeamMember
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label
from support_network.errors import Conflict, DomainError
from support_network.web import web_actor

S = EnrolmentStatus

# How many enrolments of one status a program page lists.
ENROLMENTS_PER_STATUS = 50

# The button of each target status on the enrolment page.
TRANSITION_BUTTONS = {
    S.SCREENING: _lazy("審査を開始する"),
    S.ACCEPTED: _lazy("採択する"),
    S.REJECTED: _lazy("不採択にする"),
    S.ACTIVE: _lazy("支援を開始する"),
    S.COMPLETED: _lazy("完了にする"),
    S.WITHDRAWN: _lazy("辞退・中止にする"),
}

# Where a refusal of enrolment_apply is shown on the apply form.
NOT_ELIGIBLE_FIELDS = {
    "company": "program",
    "program": "program",
    "scheme": "scheme",
    "joint_research_yen_per_year": "joint_research_yen_per_year",
    "is_national_project": "is_national_project",
}
APPLY_FIELD_ALIASES = {"company": "program", "to_organisation": "program"}


def _yen(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}円"


def _days(value) -> str:
    """Return days without a trailing ".0" (30, 0.5, 29.5)."""
    return f"{value.normalize():f}" if value is not None else "—"


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
    if rules.get("requires_national_project"):
        parts.append(_("国プロ（競争的研究費による研究開発）を推進する機関"))
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
                "yen": _yen(scheme["min_joint_research_yen_per_year"])
            }
        if scheme.get("accepts_new_applications") is False:
            text += _("（新規申込なし）")
        rows.append((_("類型%(label)s") % {"label": label}, text))
    subsidy = rules.get("subsidy")
    if subsidy:
        text = _("%(rate)s（円未満切り捨て）") % {"rate": _rate_text(subsidy["rate"])}
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
                        f"{IpType(r).label if r in IpType.values else r} {_yen(v)}"
                        for r, v in sorted(
                            per_case.items(), key=lambda kv: (-kv[1], kv[0])
                        )
                    ),
                )
            )
        if "cap_per_company_per_fiscal_year_yen" in subsidy:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("年度ごとに%(yen)s（同じ年度の交付済み額を差し引きます）")
                    % {"yen": _yen(subsidy["cap_per_company_per_fiscal_year_yen"])},
                )
            )
        elif subsidy.get("cap_per_company_yen") is not None:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("%(yen)s（交付済み額を差し引きます）")
                    % {"yen": _yen(subsidy["cap_per_company_yen"])},
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


def _fiscal_year_choices(years) -> list[tuple[int, str]]:
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
    rights = services.subsidy_rights(program)
    form_kwargs = {
        "right_choices": [(r, IpType(r).label) for r in rights if r in IpType.values],
        "has_renewal": bool(subsidy.get("renewal_rate")),
    }
    data = request.POST if request.method == "POST" else None
    form = EstimateForm(
        data,
        initial={"fiscal_year": fy_now},
        fiscal_year_choices=_fiscal_year_choices([fy_now - 1, fy_now, fy_now + 1]),
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
        }
        for f in items.forms
        if f.cleaned_data.get("cost_yen") is not None
    ]
    granted = form.cleaned_data["already_granted_yen"]
    try:
        result = services.subsidy_estimate(
            program=program,
            fiscal_year=form.cleaned_data["fiscal_year"],
            items=rows,
            company=company,
            actor=actor if company is not None else None,
            already_granted_yen=granted if company is None else None,
            today=today,
        )
    except DomainError as exc:
        add_domain_error(form, exc, {"items": None, "company": None})
        context["status"] = 400
        return context
    for item in result["items"]:
        item["eligible_text"] = _yen(item["eligible_yen"])
    context["result"] = result
    context["total_text"] = _yen(result["total_yen"])
    context["lines"] = _estimate_lines(program, result, form.cleaned_data)
    return context


def _estimate_lines(program: Program, result: dict, cleaned: dict) -> list[str]:
    """Return the estimate explained in Japanese sentences, one per step."""
    subsidy = program.rules["subsidy"]
    lines = [
        _(
            "補助率 %(rate)s を費用に掛け、1円未満は切り捨てます"
            "（例: 1,000,001円 × 1/2 = 500,000円）。"
        )
        % {"rate": _rate_text(subsidy["rate"])}
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
                "cap": _yen(cap),
                "granted": _yen(result["already_granted_yen"]),
                "remaining": _yen(result["company_cap_remaining_yen"]),
            }
        )
    else:
        lines.append(_("1企業あたりの上限はありません。"))
    lines.append(
        _("補助見込額の合計: %(total)s（交付を約束するものではありません）。")
        % {"total": _yen(result["total_yen"])}
    )
    return lines


# --- Applying for a program from a case -----------------------------------------------


def _program_choices(programs) -> list[tuple[str, str]]:
    return [
        (p.code, f"{p.name}（{p.operator.short_name or p.operator.name}）")
        for p in programs
    ]


def _apply_fiscal_years() -> list[tuple[int, str]]:
    years = ProgramRound.objects.filter(
        program__kind=ProgramKind.ENROLMENT, program__is_active=True
    ).values_list("fiscal_year", flat=True)
    return _fiscal_year_choices(years)


def _round_notice(form) -> str:
    """Return a note when the chosen round has no free seat (applying still works)."""
    data = form.cleaned_data if form.is_bound and hasattr(form, "cleaned_data") else {}
    code = data.get("program") or form.initial.get("program")
    fy = data.get("fiscal_year") or form.initial.get("fiscal_year")
    if not code or not fy:
        return ""
    round_ = (
        ProgramRound.objects.filter(program__code=code, fiscal_year=fy)
        .select_related("program")
        .first()
    )
    if round_ is None:
        return ""
    used = selectors.round_capacity_used(round_)
    if used < round_.capacity:
        return ""
    return _(
        "%(program)sの%(year)sの採択枠（%(capacity)s件）は埋まっています。申込はできますが、"
        "辞退などで枠が空かない限り採択されません（採択しようとすると round_full）。"
    ) % {
        "program": round_.program.short_name or round_.program.name,
        "year": fiscal_year_label(round_.fiscal_year),
        "capacity": round_.capacity,
    }


def _apply_error(request, form, exc: DomainError, actor) -> None:
    """Put a refusal of enrolment_apply / enrolment_refer on the right field."""
    if isinstance(exc, services.NotEligible):
        form.add_error(NOT_ELIGIBLE_FIELDS.get(exc.about, "program"), exc.detail)
    elif isinstance(exc, Conflict) and exc.code == "already_enrolled":
        existing = exc.extra.get("existing")
        message = exc.detail
        if (
            existing
            and selectors.enrolments_visible_to(actor).filter(pk=existing).exists()
        ):
            message += _(" 申込の画面: %(url)s") % {
                "url": reverse("programs:enrolment-detail", args=[existing])
            }
        form.add_error("program", message)
    else:
        add_domain_error(form, exc, APPLY_FIELD_ALIASES)


def _case_for_apply(actor, case_id: int) -> Case:
    return get_object_or_404(
        crm_selectors.cases_visible_to(actor).select_related("company", "organisation"),
        pk=case_id,
    )


@login_required
def enrolment_apply(request, case_id: int):
    """支援事業に申し込む: apply for a program on behalf of the case's company."""
    actor = web_actor(request)
    case = _case_for_apply(actor, case_id)
    today = timezone.localdate()
    programs = list(selectors.enrolment_programs())
    data = request.POST if request.method == "POST" else None
    form = EnrolmentApplyForm(
        data,
        initial={
            "program": request.GET.get("program", ""),
            "fiscal_year": fiscal_year_of(today),
        },
        program_choices=_program_choices(programs),
        fiscal_year_choices=_apply_fiscal_years(),
    )
    context = {
        "case": case,
        "form": form,
        "programs": [
            {"program": p, "eligibility": eligibility_text(p)} for p in programs
        ],
        "subsidies": selectors.programs_list().filter(kind=ProgramKind.SUBSIDY),
    }
    if data is None or not form.is_valid():
        context["round_notice"] = _round_notice(form) if data is None else ""
        return render(
            request,
            "programs/enrolment_apply.html",
            context,
            status=200 if data is None else 400,
        )
    context["round_notice"] = _round_notice(form)
    cleaned = form.cleaned_data
    program = next(p for p in programs if p.code == cleaned["program"])
    try:
        enrolment = services.enrolment_apply(
            actor=actor,
            program=program,
            fiscal_year=cleaned["fiscal_year"],
            company=case.company_id,
            case=case,
            scheme=cleaned["scheme"] or None,
            joint_research_yen_per_year=cleaned["joint_research_yen_per_year"],
            is_national_project=cleaned["is_national_project"],
            today=today,
        )
    except DomainError as exc:
        _apply_error(request, form, exc, actor)
        return render(
            request,
            "programs/enrolment_apply.html",
            context,
            status=exc.status_code,
        )
    messages.success(
        request,
        _("%(program)sに申し込みました（%(year)s）。")
        % {"program": program.name, "year": fiscal_year_label(cleaned["fiscal_year"])},
    )
    return redirect("programs:enrolment-detail", pk=enrolment.pk)


# --- Referring a case into a program (支援事業へ紹介) ------------------------------------


class _ConsentInvalid(Exception):
    """Abort the write: the consent form already carries the message."""


@login_required
def enrolment_refer(request, case_id: int):
    """支援事業へ紹介: refer the case to a program's operator and apply, in one go.

    The referral (APPI consent, provision record) and the application
    (eligibility) are written in one transaction. A missing consent
    (409 consent_required) re-renders the page with everything typed kept
    and the inline consent form; submitting it records the consent, sends
    the referral and applies, together or not at all.
    """
    actor = web_actor(request)
    case = _case_for_apply(actor, case_id)
    today = timezone.localdate()
    # The operator must be another organisation than the case's and the
    # user's own: those apply directly.
    programs = [
        p
        for p in selectors.enrolment_programs()
        if p.operator_id not in (case.organisation_id, actor.organisation_id)
    ]
    data = request.POST if request.method == "POST" else None
    action = data.get("action", "send") if data else ""
    form = ProgramReferralForm(
        data,
        initial={
            "program": request.GET.get("program", ""),
            "fiscal_year": fiscal_year_of(today),
        },
        program_choices=_program_choices(programs),
        fiscal_year_choices=_apply_fiscal_years(),
    )
    consent_form = InlineConsentForm(data if action == "consent_send" else None)
    context = {
        "case": case,
        "form": form,
        "consent_form": consent_form,
        "consent_needed": action == "consent_send",
        "consent_message": "",
        "programs": [
            {"program": p, "eligibility": eligibility_text(p)} for p in programs
        ],
    }
    template = "programs/enrolment_refer.html"
    if data is None:
        return render(request, template, context)
    form_ok = form.is_valid()
    consent_ok = action != "consent_send" or consent_form.is_valid()
    if not (form_ok and consent_ok):
        return render(request, template, context, status=400)
    cleaned = form.cleaned_data
    program = next(p for p in programs if p.code == cleaned["program"])
    try:
        with transaction.atomic():
            if action == "consent_send":
                _record_consent(actor, case, program, consent_form)
            enrolment = services.enrolment_refer(
                actor=actor,
                program=program,
                fiscal_year=cleaned["fiscal_year"],
                case=case,
                reason=cleaned["reason"],
                topics=cleaned["topics"],
                scheme=cleaned["scheme"] or None,
                joint_research_yen_per_year=cleaned["joint_research_yen_per_year"],
                is_national_project=cleaned["is_national_project"],
                today=today,
            )
    except _ConsentInvalid:
        return render(request, template, context, status=400)
    except Conflict as exc:
        if exc.code == "consent_required":
            context["consent_needed"] = True
            context["consent_message"] = exc.detail
            # The next step of the page, not a failure: like the referral
            # page, it answers 200 with the consent form.
            return render(request, template, context)
        _apply_error(request, form, exc, actor)
        return render(request, template, context, status=409)
    except DomainError as exc:
        _apply_error(request, form, exc, actor)
        return render(request, template, context, status=exc.status_code)
    messages.success(
        request,
        _(
            "%(operator)s へ紹介し、%(program)sに申し込みました。"
            "回答期限は %(date)s です。"
        )
        % {
            "operator": program.operator.name,
            "program": program.name,
            "date": f"{enrolment.referral.respond_by:%Y/%m/%d}",
        },
    )
    return redirect("programs:enrolment-detail", pk=enrolment.pk)


def _record_consent(actor, case: Case, program: Program, consent_form) -> None:
    cleaned = consent_form.cleaned_data
    scope = cleaned["scope"]
    try:
        crm_services.consent_record(
            actor=actor,
            company=case.company,
            scope=scope,
            obtained_on=cleaned["obtained_on"],
            method=cleaned["method"],
            organisations=(
                [program.operator.code] if scope == ConsentScope.ORGANISATIONS else []
            ),
        )
    except DomainError as exc:
        add_domain_error(consent_form, exc)
        raise _ConsentInvalid from exc


# --- Enrolment page --------------------------------------------------------------------


def _enrolment_for(actor, pk: int) -> Enrolment:
    return get_object_or_404(
        selectors.enrolments_visible_to(actor).select_related(
            "program__operator", "applied_by", "referral"
        ),
        pk=pk,
    )


def _quota_range(enrolment: Enrolment) -> tuple[int, int] | None:
    quota = selectors.program_rule(enrolment.program, enrolment.scheme, "day_quota")
    if not quota or quota.get("min_configurable") is None:
        return None
    if quota.get("per", "period") != "period":
        return None
    return quota["min_configurable"], quota["days"]


def _team_role_choices(program: Program) -> list[tuple[str, str]]:
    roles = program.rules.get("team") or TeamRole.values
    return [(r, TeamRole(r).label) for r in roles if r in TeamRole.values]


def _member_choices() -> list[tuple[int, str]]:
    choices = []
    for m in selectors.team_candidates()[:300]:
        tags = "・".join(t.name for t in m.expertise.all())
        label = f"{m.user.get_full_name() or m.user.get_username()}（{m.organisation.name}）"
        if tags:
            label += f" {tags}"
        choices.append((m.pk, label))
    return choices


def _enrolment_context(
    actor,
    enrolment: Enrolment,
    *,
    plan_form: SupportPlanForm | None = None,
    day_form: SupportDayForm | None = None,
    team_form: TeamMemberForm | None = None,
    action_error: str = "",
) -> dict[str, Any]:
    program = enrolment.program
    today = timezone.localdate()
    can_run = selectors.is_operator_staff(actor, program)
    can_support = can_run or selectors.is_on_team(actor, enrolment)
    plans = list(enrolment.plans.order_by("-period"))
    plan = next((p for p in plans if p.period == enrolment.period), None)
    quota = selectors.enrolment_day_quota(enrolment, on=today)
    team = list(
        TeamMember.objects.filter(enrolment=enrolment)
        .select_related("membership__user", "membership__organisation")
        .order_by("role", "id")
    )
    required_roles = [
        r for r in program.rules.get("team") or [] if r in TeamRole.values
    ]
    missing_roles = [
        TeamRole(r).label for r in required_roles if r not in {m.role for m in team}
    ]
    days_qs = SupportDay.objects.filter(enrolment=enrolment).select_related("logged_by")
    if quota is not None and quota.is_per_fiscal_year:
        days_qs = days_qs.filter(fiscal_year=quota.fiscal_year)
    else:
        days_qs = days_qs.filter(period=enrolment.period)
    in_plan_status = enrolment.status in services.PLAN_STATUSES
    if plan_form is None and can_support and in_plan_status:
        initial = {"goals": plan.goals, "achieved": plan.is_achieved} if plan else {}
        if plan is not None and plan.day_quota_days is not None:
            initial["day_quota"] = plan.day_quota_days
        plan_form = SupportPlanForm(
            initial=initial, quota_range=_quota_range(enrolment)
        )
    if day_form is None and can_support and enrolment.status == S.ACTIVE:
        day_form = SupportDayForm()
    if team_form is None and can_run and in_plan_status:
        team_form = TeamMemberForm(
            member_choices=_member_choices(),
            role_choices=_team_role_choices(program),
        )
    continuation = bool(
        selectors.program_rule(program, enrolment.scheme, "continuation", False)
    )
    return {
        "enrolment": enrolment,
        "program": program,
        "round_label": fiscal_year_label(enrolment.round.fiscal_year),
        "can_run": can_run,
        "can_support": can_support,
        "transitions": (
            [
                {"status": s, "label": TRANSITION_BUTTONS[s]}
                for s in S.values
                if s in services.TRANSITIONS[enrolment.status]
            ]
            if can_run
            else []
        ),
        "plan": plan,
        "past_plans": [p for p in plans if p.period != enrolment.period],
        "plan_form": plan_form,
        "requires_plan": bool(
            selectors.program_rule(
                program, enrolment.scheme, "requires_support_plan", False
            )
        ),
        "quota": quota,
        "quota_text": (
            {
                "used": _days(quota.used),
                "limit": _days(quota.limit),
                "remaining": _days(quota.remaining),
            }
            if quota is not None
            else None
        ),
        "days_used_text": _days(enrolment.days_used),
        "joint_research_text": _yen(enrolment.joint_research_yen_per_year),
        "support_days": list(days_qs.order_by("-date", "-id")[:200]),
        "day_form": day_form,
        "team": team,
        "missing_roles": missing_roles,
        "team_form": team_form,
        "continuation": continuation,
        "continuation_needs_achieved": bool(
            selectors.program_rule(
                program,
                enrolment.scheme,
                "continuation_requires_plan_achieved",
                False,
            )
        ),
        "can_continue": can_run and continuation and enrolment.status == S.ACTIVE,
        "duration": duration_text(program),
        "action_error": action_error,
        "case_visible": enrolment.case_id is not None
        and crm_selectors.cases_visible_to(actor).filter(pk=enrolment.case_id).exists(),
        "today": today,
    }


def _render_enrolment(request, actor, enrolment, status=200, **forms):
    enrolment = _enrolment_for(actor, enrolment.pk)
    context = _enrolment_context(actor, enrolment, **forms)
    return render(request, "programs/enrolment_detail.html", context, status=status)


@login_required
def enrolment_detail(request, pk: int):
    """Show an enrolment: status and its moves, team, plan, support days."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    return render(
        request,
        "programs/enrolment_detail.html",
        _enrolment_context(actor, enrolment),
    )


def _back(enrolment: Enrolment, anchor: str = ""):
    url = reverse("programs:enrolment-detail", args=[enrolment.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


@login_required
@require_POST
def enrolment_transition(request, pk: int):
    """Move the enrolment to the status of the button pressed (operator staff)."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    target = request.POST.get("status", "")
    try:
        enrolment = services.enrolment_transition(
            actor=actor, enrolment=enrolment, status=target
        )
    except DomainError as exc:
        return _render_enrolment(
            request, actor, enrolment, status=exc.status_code, action_error=exc.detail
        )
    messages.success(
        request,
        _("状態を「%(status)s」にしました。") % {"status": S(target).label},
    )
    return _back(enrolment)


@login_required
@require_POST
def enrolment_plan(request, pk: int):
    """Save the support plan of the current period."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    form = SupportPlanForm(request.POST, quota_range=_quota_range(enrolment))
    if not form.is_valid():
        return _render_enrolment(request, actor, enrolment, 400, plan_form=form)
    try:
        services.support_plan_save(
            actor=actor,
            enrolment=enrolment,
            goals=form.cleaned_data["goals"],
            achieved=form.cleaned_data["achieved"],
            day_quota=form.cleaned_data.get("day_quota"),
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _render_enrolment(
            request, actor, enrolment, exc.status_code, plan_form=form
        )
    messages.success(request, _("支援計画を保存しました。"))
    return _back(enrolment, "plan")


@login_required
@require_POST
def enrolment_support_day(request, pk: int):
    """Log a date of expert support against the day quota."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    form = SupportDayForm(request.POST)
    if not form.is_valid():
        return _render_enrolment(request, actor, enrolment, 400, day_form=form)
    try:
        services.support_days_log(
            actor=actor,
            enrolment=enrolment,
            date=form.cleaned_data["date"],
            days=form.cleaned_data["days"],
            note=form.cleaned_data["note"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _render_enrolment(
            request, actor, enrolment, exc.status_code, day_form=form
        )
    messages.success(request, _("支援日を記録しました。"))
    return _back(enrolment, "support-days")


@login_required
@require_POST
def enrolment_team_add(request, pk: int):
    """Put an expert on the support team (operator staff)."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    form = TeamMemberForm(
        request.POST,
        member_choices=_member_choices(),
        role_choices=_team_role_choices(enrolment.program),
    )
    if not form.is_valid():
        return _render_enrolment(request, actor, enrolment, 400, team_form=form)
    try:
        services.enrolment_team_add(
            actor=actor,
            enrolment=enrolment,
            membership=form.cleaned_data["membership"],
            role=form.cleaned_data["role"],
        )
    except DomainError as exc:
        add_domain_error(form, exc)
        return _render_enrolment(
            request, actor, enrolment, exc.status_code, team_form=form
        )
    messages.success(request, _("支援チームに専門家を加えました。"))
    return _back(enrolment, "team")


@login_required
@require_POST
def enrolment_team_remove(request, pk: int, member_pk: int):
    """Take an expert off the support team (operator staff)."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    member = get_object_or_404(TeamMember, pk=member_pk, enrolment=enrolment)
    try:
        services.enrolment_team_remove(actor=actor, member=member)
    except DomainError as exc:
        return _render_enrolment(
            request, actor, enrolment, status=exc.status_code, action_error=exc.detail
        )
    messages.success(request, _("支援チームから外しました。"))
    return _back(enrolment, "team")


@login_required
@require_POST
def enrolment_continue(request, pk: int):
    """Start the next support period (iAca, iNat), once the plan is achieved."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    try:
        enrolment = services.enrolment_continue(actor=actor, enrolment=enrolment)
    except DomainError as exc:
        return _render_enrolment(
            request, actor, enrolment, status=exc.status_code, action_error=exc.detail
        )
    messages.success(
        request,
        _("第%(period)s期の支援を開始しました。支援計画を登録してください。")
        % {"period": enrolment.period},
    )
    return _back(enrolment, "plan")
