"""Applying for a program and moving an enrolment through its life.

An enrolment is applied for (eligibility from programs/services/eligibility.py),
screened, accepted within the round's capacity, started (its support period
from `rules.duration_months`) and continued (継続支援) or ended. Each
service takes keyword-only arguments and an Actor, runs in one transaction
and raises DomainError subclasses with Japanese messages (STYLE.md §2).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case, Company
from crm.permissions import case_require_writable
from crm.selectors.visibility import cases_visible_to
from crm.services.audit import audit_record
from crm.services.surveys import survey_schedule_for
from programs.choices import EnrolmentStatus, ProgramKind
from programs.lock_objects import (
    enrolment_lock,
    program_round_lock,
    program_round_lock_for,
)
from programs.models import Enrolment, Program, ProgramRound, SupportPlan
from programs.permissions import program_require_operator_staff
from programs.selectors import is_operator_staff, program_rule, round_capacity_used
from programs.services.eligibility import (
    applicant_company_get,
    company_refusal,
    conditions_refusal,
    not_eligible,
    scheme_refusal,
    scheme_validate,
)
from programs.text import program_name
from support_network.actors import Actor
from support_network.calendar import add_business_days, fiscal_year_short_label
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.errors import Conflict, PermissionDenied, ValidationFailed

S = EnrolmentStatus


S = EnrolmentStatus

# The life of an enrolment: applied → screening → accepted | rejected;
# accepted → active → completed. It may be withdrawn (辞退・中止) at any
# point before it ends. Anything else is 409 invalid_transition.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.APPLIED: frozenset({S.SCREENING, S.WITHDRAWN}),
    S.SCREENING: frozenset({S.ACCEPTED, S.REJECTED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.ACTIVE, S.WITHDRAWN}),
    S.ACTIVE: frozenset({S.COMPLETED, S.WITHDRAWN}),
    S.REJECTED: frozenset(),
    S.COMPLETED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# An enrolment in these states blocks a second application of the same
# company to the same round.
OPEN_STATUSES = (S.APPLIED, S.SCREENING, S.ACCEPTED, S.ACTIVE, S.COMPLETED)


def add_months(d: date, months: int) -> date:
    """Return *d* moved by *months*, clamping the day to the month's last day.

    2026-08-31 + 5 months is 2027-01-31; 2026-09-30 + 5 months is
    2027-02-28 (there is no 30 February).
    """
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _case_for(actor: Actor, case: Case | int | str, company: Company) -> Case:
    pk = case.pk if isinstance(case, Case) else case
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = cases_visible_to(actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationFailed(_("案件が見つかりません。"), field="case")
    if found.company_id != company.pk:
        raise ValidationFailed(
            _("案件の企業等が申込の企業等と一致しません。"), field="case"
        )
    # Applying from a case writes on it: only organisations working on it.
    case_require_writable(actor, found)
    return found


@transaction.atomic
def enrolment_apply(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: int,
    company: Company | int,
    scheme: str | None = None,
    joint_research_yen_per_year: int | None = None,
    case: Case | int | None = None,
    is_national_project: bool = False,
    confirmed_conditions: Iterable[str] | None = None,
    today: date | None = None,
) -> Enrolment:
    """Apply for a program round on a client's behalf; return the applied enrolment.

    Any network member may apply for a client whose non-public data it may
    see. Eligibility comes from `program.rules`; a refusal is 400
    not_eligible with the reason in Japanese.
    """
    today = today or timezone.localdate()
    organisation = actor.organisation
    if organisation is None or not organisation.is_network_member:
        raise PermissionDenied(
            _("支援事業への申込は、ネットワークの構成機関の所属者だけができます。")
        )
    company = applicant_company_get(actor, company)
    if case is not None:
        case = _case_for(actor, case, company)
    if joint_research_yen_per_year is not None and joint_research_yen_per_year < 0:
        raise ValidationFailed(
            _("共同研究費は0円以上で入力してください。"),
            field="joint_research_yen_per_year",
        )
    name = program_name(program)
    if program.kind == ProgramKind.SUBSIDY:
        raise not_eligible(
            _("この事業は申込ではなく補助金の見積もりで扱います。"), "program"
        )
    if not program.is_active:
        raise not_eligible(
            _("%(program)sは現在受け付けていません。") % {"program": name}, "program"
        )

    # Lock the round: two applications of one company must not both pass the
    # duplicate check below.
    round_ = program_round_lock_for(program=program, fiscal_year=fiscal_year)
    if round_ is None:
        raise ValidationFailed(
            _("%(program)sの%(year)sの募集回はありません。")
            % {"program": name, "year": fiscal_year_short_label(fiscal_year)},
            code="no_round",
            field="fiscal_year",
        )
    if (round_.opens_on and today < round_.opens_on) or (
        round_.closes_on and today > round_.closes_on
    ):
        raise ValidationFailed(
            _("%(program)sの%(year)sの募集は受付期間外です。")
            % {"program": name, "year": fiscal_year_short_label(fiscal_year)},
            code="round_closed",
            field="fiscal_year",
        )

    scheme = scheme_validate(program, scheme, joint_research_yen_per_year)
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
    if program.rules.get("requires_national_project") and not is_national_project:
        raise not_eligible(
            _(
                "%(program)sの対象は、国プロ（競争的研究費による研究開発プロジェクト）"
                "を推進する機関です。国プロであること（is_national_project）を"
                "確認してください。"
            )
            % {"program": name},
            "is_national_project",
        )
    if scheme:
        refusal = scheme_refusal(
            program, scheme, joint_research_yen_per_year=joint_research_yen_per_year
        )
        if refusal is not None:
            raise refusal

    existing = (
        Enrolment.objects.filter(
            round=round_, company=company, status__in=OPEN_STATUSES
        )
        .values_list("pk", flat=True)
        .first()
    )
    if existing is not None:
        raise Conflict(
            _("この企業等は%(program)sの%(year)sに既に申し込んでいます。")
            % {"program": name, "year": fiscal_year_short_label(fiscal_year)},
            code="already_enrolled",
            existing=existing,
        )

    enrolment = Enrolment.objects.create(
        program=program,
        round=round_,
        company=company,
        case=case,
        organisation=organisation,
        applied_by=actor.user,
        scheme=scheme,
        status=S.APPLIED,
        joint_research_yen_per_year=joint_research_yen_per_year,
    )
    audit_record(
        actor=actor,
        action="enrolment.apply",
        obj=enrolment,
        # No column holds the applicant's 国プロ declaration yet: keep it here.
        data={
            "program": program.code,
            "fiscal_year": fiscal_year,
            "is_national_project": is_national_project,
        },
    )
    return enrolment


@transaction.atomic
def enrolment_transition(
    *,
    actor: Actor,
    enrolment: Enrolment,
    status: str,
    started_on: date | None = None,
    today: date | None = None,
) -> Enrolment:
    """Move an enrolment to status, as the program's operator.

    Acceptance never takes a round past its capacity, also when two
    coordinators accept at once: the round row is locked while its seats
    are counted. Starting support (accepted → active) sets the support
    period from `rules.duration_months`; `started_on` (a past date in the
    round's fiscal year) records support that began before it was entered.
    """
    today = today or timezone.localdate()
    if status not in S.values:
        raise ValidationFailed(_("状態が正しくありません。"), field="status")
    if started_on is not None and status != S.ACTIVE:
        raise ValidationFailed(
            _("開始日は支援を開始するとき（実施中にするとき）だけ指定できます。"),
            field="started_on",
        )
    enrolment = enrolment_lock(enrolment.pk)
    program = Program.objects.select_related("operator").get(pk=enrolment.program_id)
    if not is_operator_staff(actor, program):
        raise PermissionDenied(
            _(
                "参加の状態を変更できるのは、実施機関（%(operator)s）の"
                "コーディネーターと管理者だけです。"
            )
            % {"operator": program.operator.name}
        )
    current = enrolment.status
    if status not in TRANSITIONS[current]:
        raise Conflict(
            _("「%(current)s」の参加を「%(target)s」にはできません。")
            % {"current": S(current).label, "target": S(status).label},
            code="invalid_transition",
            current_status=current,
        )
    if status == S.ACCEPTED:
        round_ = program_round_lock(enrolment.round_id)
        used = round_capacity_used(round_)
        if used >= round_.capacity:
            raise Conflict(
                _(
                    "%(program)sの%(year)sの採択枠（%(capacity)s件）は埋まっているため、"
                    "採択できません。"
                )
                % {
                    "program": program_name(program),
                    "year": fiscal_year_short_label(round_.fiscal_year),
                    "capacity": round_.capacity,
                },
                code="round_full",
                capacity=round_.capacity,
            )
    fields = ["status", "updated_at"]
    if status == S.ACTIVE:
        start = today
        if started_on is not None:
            round_year = (
                ProgramRound.objects.filter(pk=enrolment.round_id)
                .values_list("fiscal_year", flat=True)
                .get()
            )
            if started_on > today or fiscal_year_of(started_on) != round_year:
                raise ValidationFailed(
                    _("開始日は今日以前の、%(year)sの日付にしてください。")
                    % {"year": fiscal_year_short_label(round_year)},
                    field="started_on",
                )
            start = started_on
        months = program_rule(program, enrolment.scheme, "duration_months")
        enrolment.started_on = start
        enrolment.ends_on = add_months(start, int(months)) if months else None
        fields += ["started_on", "ends_on"]
    enrolment.status = status
    enrolment.save(update_fields=fields)
    if status == S.COMPLETED:
        # 満足度調査 about the operator's help, on the next business day
        # when the operator's setting `after_enrolment_completed` is on.
        survey_schedule_for(
            organisation=program.operator,
            company=enrolment.company,
            source="enrolment",
            about_id=enrolment.pk,
            due_on=add_business_days(today, 1),
            case_id=enrolment.case_id,
        )
    audit_record(
        actor=actor,
        action="enrolment.transition",
        obj=enrolment,
        data={"from": current, "to": status},
        changes={"status": [current, status]}
        | ({"started_on": [None, enrolment.started_on]} if status == S.ACTIVE else {}),
    )
    return enrolment


@transaction.atomic
def enrolment_continue(
    *,
    actor: Actor,
    enrolment: Enrolment,
    today: date | None = None,
) -> Enrolment:
    """Start the next support period of an active enrolment (継続支援).

    Only programs with `rules.continuation` continue (iAca, iNat); where
    `continuation_requires_plan_achieved`, the current period's plan must
    be marked achieved (reference/programs.md §4). The new period starts
    today and lasts `duration_months`; its day quota and plan start afresh.
    """
    today = today or timezone.localdate()
    enrolment = enrolment_lock(enrolment.pk)
    program = enrolment.program
    program_require_operator_staff(actor, program)
    name = program_name(program)
    if not program_rule(program, enrolment.scheme, "continuation", False):
        raise Conflict(
            _("%(program)sには継続支援がありません。") % {"program": name},
            code="continuation_not_allowed",
        )
    if enrolment.status != S.ACTIVE:
        raise Conflict(
            _("継続できるのは支援中の参加だけです（現在: %(status)s）。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    if program_rule(
        program, enrolment.scheme, "continuation_requires_plan_achieved", False
    ):
        achieved = SupportPlan.objects.filter(
            enrolment=enrolment, period=enrolment.period, is_achieved=True
        ).exists()
        if not achieved:
            raise Conflict(
                _(
                    "%(program)sの継続には、第%(period)s期の支援計画の達成が必要です。"
                    "支援計画を「達成」にしてから継続してください。"
                )
                % {"program": name, "period": enrolment.period},
                code="plan_not_achieved",
            )
    previous = enrolment.period
    months = program_rule(program, enrolment.scheme, "duration_months")
    enrolment.period = previous + 1
    enrolment.started_on = today
    enrolment.ends_on = add_months(today, int(months)) if months else None
    enrolment.save(update_fields=["period", "started_on", "ends_on", "updated_at"])
    audit_record(
        actor=actor,
        action="enrolment.continue",
        obj=enrolment,
        data={"from_period": previous, "to_period": enrolment.period},
    )
    return enrolment
