"""Web UI of the enrolment page: status, support team, support plan, support days.

Adapters: reads through programs/selectors.py (an enrolment the user may not
see is a 404), writes through programs/services/, and a DomainError goes back
beside the field it is about with everything typed kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from crm.selectors.visibility import cases_visible_to
from crm.web.forms import add_domain_error
from programs import selectors
from programs.choices import EnrolmentStatus, TeamRole
from programs.models import Enrolment, Program, TeamMember
from programs.services import enrolments, support_days, teams
from programs.text import days_text, yen_text
from programs.web.forms import (
    SupportDayForm,
    SupportPlanForm,
    TeamMemberForm,
)
from programs.web.rules_text import duration_text
from support_network.calendar import fiscal_year_label
from support_network.errors import DomainError, ValidationFailed
from support_network.people import person_name
from support_network.web.actors import web_actor

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
    team = list(selectors.enrolment_team(enrolment))
    required_roles = [
        r for r in program.rules.get("team") or [] if r in TeamRole.values
    ]
    missing_roles = [
        TeamRole(r).label for r in required_roles if r not in {m.role for m in team}
    ]
    days_qs = selectors.enrolment_support_days(
        enrolment,
        fiscal_year=quota.fiscal_year
        if quota is not None and quota.is_per_fiscal_year
        else None,
    )
    in_plan_status = enrolment.status in support_days.PLAN_STATUSES
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
                if s in enrolments.TRANSITIONS[enrolment.status]
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
        and cases_visible_to(actor).filter(pk=enrolment.case_id).exists(),
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
        enrolment = enrolments.enrolment_transition(
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
        lambda data: support_days.support_plan_save(
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
        lambda data: support_days.support_days_log(
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
        lambda data: teams.enrolment_team_add(
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
        teams.enrolment_team_remove(actor=actor, member=member)
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
        enrolment = enrolments.enrolment_continue(actor=actor, enrolment=enrolment)
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
