"""Web UI of enrolments: applying from a case, referring a case into a program,
and the enrolment page (status, team, support plan, support days).

Adapters like programs/web.py: reads through programs/selectors.py (an
enrolment the user may not see is a 404), writes through programs/services.py
(one transaction each, so nothing is half-written), and a DomainError goes
back beside the field it is about with everything typed kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.choices import ConsentScope
from crm.forms import add_domain_error
from crm.forms_referrals import InlineConsentForm
from crm.models import Case
from crm.permissions import can_write_case
from programs import selectors, services
from programs.choices import EnrolmentStatus, ProgramKind, TeamRole
from programs.forms import (
    EnrolmentApplyForm,
    ProgramReferralForm,
    SupportDayForm,
    SupportPlanForm,
    TeamMemberForm,
)
from programs.models import Enrolment, Program, ProgramRound, SupportDay, TeamMember
from programs.web import (
    days_text,
    duration_text,
    eligibility_text,
    fiscal_year_choices,
    yen_text,
)
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label
from support_network.errors import Conflict, DomainError, ValidationFailed
from support_network.people import person_name
from support_network.web import web_actor

S = EnrolmentStatus

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
    "confirmed_conditions": "confirmed_conditions",
}
APPLY_FIELD_ALIASES = {"company": "program", "to_organisation": "program"}


# --- Applying for a program from a case -----------------------------------------------


def _condition_choices(programs) -> list[tuple[str, str]]:
    """Return the checked conditions of the programs as (code, "事業: label")."""
    seen: dict[str, str] = {}
    for program in programs:
        for condition in services.program_conditions(program):
            name = program.short_name or program.name
            seen.setdefault(condition["code"], f"{name}: {condition['label']}")
    return list(seen.items())


def _program_choices(programs) -> list[tuple[str, str]]:
    return [
        (p.code, f"{p.name}（{p.operator.short_name or p.operator.name}）")
        for p in programs
    ]


def _apply_fiscal_years() -> list[tuple[int, str]]:
    years = ProgramRound.objects.filter(
        program__kind=ProgramKind.ENROLMENT, program__is_active=True
    ).values_list("fiscal_year", flat=True)
    return fiscal_year_choices(years)


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
    case = get_object_or_404(
        crm_selectors.cases_visible_to(actor).select_related("company", "organisation"),
        pk=case_id,
    )
    if not can_write_case(actor, case):
        raise DjangoPermissionDenied(_("この案件は閲覧のみです。"))
    return case


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
        condition_choices=_condition_choices(programs),
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
            confirmed_conditions=cleaned.get("confirmed_conditions") or (),
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
        condition_choices=_condition_choices(programs),
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
                confirmed_conditions=cleaned.get("confirmed_conditions") or (),
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
            "date": f"{enrolment.referral.respond_by:%Y}/{enrolment.referral.respond_by.month}/{enrolment.referral.respond_by.day}",
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
        label = f"{person_name(m.user)}（{m.organisation.name}）"
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
                "used": days_text(quota.used),
                "limit": days_text(quota.limit),
                "remaining": days_text(quota.remaining),
            }
            if quota is not None
            else None
        ),
        "days_used_text": days_text(enrolment.days_used),
        "joint_research_text": yen_text(enrolment.joint_research_yen_per_year),
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
    started_on = None
    try:
        raw = request.POST.get("started_on", "")
        if raw and target == S.ACTIVE:
            try:
                started_on = date.fromisoformat(raw)
            except ValueError as exc:
                raise ValidationFailed(
                    _("開始日の形式が正しくありません（例: 2026-04-01）。"),
                    field="started_on",
                ) from exc
            if started_on == timezone.localdate():
                started_on = None  # today: the default
        enrolment = services.enrolment_transition(
            actor=actor, enrolment=enrolment, status=target, started_on=started_on
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


def _form_action(
    request, actor, enrolment, form, form_key: str, save, done: str, anchor
):
    """Validate form, call save(cleaned_data), then redirect; or re-render the page.

    A form error is a 400 and a DomainError keeps its status, both with the
    message beside the field and everything typed kept.
    """
    if not form.is_valid():
        return _render_enrolment(request, actor, enrolment, 400, **{form_key: form})
    try:
        save(form.cleaned_data)
    except DomainError as exc:
        add_domain_error(form, exc)
        return _render_enrolment(
            request, actor, enrolment, exc.status_code, **{form_key: form}
        )
    messages.success(request, done)
    return _back(enrolment, anchor)


@login_required
@require_POST
def enrolment_plan(request, pk: int):
    """Save the support plan of the current period."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    form = SupportPlanForm(request.POST, quota_range=_quota_range(enrolment))
    return _form_action(
        request,
        actor,
        enrolment,
        form,
        "plan_form",
        lambda data: services.support_plan_save(
            actor=actor,
            enrolment=enrolment,
            goals=data["goals"],
            achieved=data["achieved"],
            day_quota=data.get("day_quota"),
        ),
        _("支援計画を保存しました。"),
        "plan",
    )


@login_required
@require_POST
def enrolment_support_day(request, pk: int):
    """Log a date of expert support against the day quota."""
    actor = web_actor(request)
    enrolment = _enrolment_for(actor, pk)
    return _form_action(
        request,
        actor,
        enrolment,
        SupportDayForm(request.POST),
        "day_form",
        lambda data: services.support_days_log(
            actor=actor,
            enrolment=enrolment,
            date=data["date"],
            days=data["days"],
            note=data["note"],
        ),
        _("支援日を記録しました。"),
        "support-days",
    )


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
    return _form_action(
        request,
        actor,
        enrolment,
        form,
        "team_form",
        lambda data: services.enrolment_team_add(
            actor=actor,
            enrolment=enrolment,
            membership=data["membership"],
            role=data["role"],
        ),
        _("支援チームに専門家を加えました。"),
        "team",
    )


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
