"""Rule-bearing writes on programs: enrolments, support plans and days, estimates.

The rules themselves (who is eligible, how long support lasts, day quotas,
subsidy rates and caps) are data in `Program.rules`, seeded from
seeds/data/programs.json (reference/programs.md); this module reads them, so
an administrator can change a rule without a release. Each service takes
keyword-only arguments and an Actor, runs in one transaction and raises
DomainError subclasses with Japanese messages (STYLE.md §2).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import rules as company_rules
from crm.choices import CompanyKind, IpType, SizeClass
from crm.models import Case, Company
from crm.permissions import case_require_writable
from crm.selectors import cases_visible_to, companies_visible_to
from crm.services import audit_record, size_class_hint
from crm.services.referrals import referral_send
from programs.choices import EnrolmentStatus, ProgramKind, Scheme, TeamRole
from programs.models import (
    Enrolment,
    Program,
    ProgramRound,
    SupportDay,
    SupportPlan,
    TeamMember,
)
from programs.selectors import (
    enrolment_day_quota,
    is_on_team,
    is_operator_staff,
    program_rule,
    round_capacity_used,
    subsidy_granted_yen,
    support_days_logged,
    team_candidates,
)
from support_network.actors import Actor
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_short_label
from support_network.errors import Conflict, PermissionDenied, ValidationFailed
from support_network.models import Membership, Organisation

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

# A support plan is drawn up when support starts (reference/programs.md §4).
PLAN_STATUSES = (S.ACCEPTED, S.ACTIVE)

# Support days are logged in half days: 0.5 or 1 per date.
DAY_STEP = Decimal("0.5")
MAX_DAYS_PER_DATE = Decimal("1")


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def add_months(d: date, months: int) -> date:
    """Return *d* moved by *months*, clamping the day to the month's last day.

    2026-08-31 + 5 months is 2027-01-31; 2026-09-30 + 5 months is
    2027-02-28 (there is no 30 February).
    """
    index = d.month - 1 + months
    year, month = d.year + index // 12, index % 12 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _program_name(program: Program) -> str:
    return program.short_name or program.name


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _days_text(days: Decimal) -> str:
    """Return days without a trailing ".0" (30, 0.5, 29.5)."""
    return f"{days.normalize():f}"


def _scheme_rules(program: Program, scheme: str | None) -> dict[str, Any]:
    return (program.rules.get("schemes") or {}).get(scheme or "", {}) or {}


_rule = program_rule


def _scheme_text(program: Program, scheme: str) -> str:
    name = _scheme_rules(program, scheme).get("name", "")
    label = Scheme(scheme).label if scheme in Scheme.values else scheme
    return _("類型%(label)s（%(name)s）") % {"label": label, "name": name}


def _company_for(actor: Actor, company: Company | int | str) -> Company:
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


def _lock_enrolment(pk: int) -> Enrolment:
    """Lock the enrolment row for a read-modify-write (STYLE.md §2 Concurrency)."""
    return Enrolment.objects.select_for_update().get(pk=pk)


def _require_operator_staff(actor: Actor, program: Program) -> None:
    if not is_operator_staff(actor, program):
        raise PermissionDenied(
            _(
                "この操作ができるのは、実施機関（%(operator)s）の"
                "コーディネーターと管理者だけです。"
            )
            % {"operator": program.operator.name}
        )


def _require_support_staff(actor: Actor, enrolment: Enrolment) -> None:
    """Let the operator's coordinators and managers and the support team through."""
    if is_operator_staff(actor, enrolment.program) or is_on_team(actor, enrolment):
        return
    raise PermissionDenied(
        _(
            "支援計画と支援日を記録できるのは、実施機関（%(operator)s）の"
            "コーディネーター・管理者と支援チームの専門家だけです。"
        )
        % {"operator": enrolment.program.operator.name}
    )


# --------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------


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


def _conditions_refusal(
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
                    "program": _program_name(program),
                    "condition": condition["label"].removesuffix("であること")
                    + "である",
                    "code": condition["code"],
                },
                about="confirmed_conditions",
            )
    return None


def _company_refusal(
    program: Program,
    company: Company,
    *,
    today: date,
    fiscal_year: int | None = None,
) -> str | None:
    """Return why company may not use program (kind, みなし大企業, startup, size)."""
    rules = program.rules
    name = _program_name(program)
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
    if rules.get("requires_startup") and not company_rules.is_startup(
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


def _scheme_refusal(
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
                "program": _program_name(program),
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
                "program": _program_name(program),
                "scheme": _scheme_text(program, scheme),
                "minimum": _yen(minimum),
                "amount": _yen(joint_research_yen_per_year or 0),
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


def _not_eligible(reason: str, about: str = "company") -> NotEligible:
    return NotEligible(reason, about=about)


def _validate_scheme(
    program: Program, scheme: str | None, joint_research_yen_per_year: int | None
) -> str:
    """Check the shape of scheme input against the program; return the scheme."""
    schemes = program.rules.get("schemes") or {}
    scheme = scheme or ""
    if not schemes:
        if scheme:
            raise ValidationFailed(
                _("%(program)sには類型がありません。")
                % {"program": _program_name(program)},
                field="scheme",
            )
        return ""
    if scheme not in schemes:
        raise ValidationFailed(
            _("%(program)sの類型（%(choices)s）を選んでください。")
            % {"program": _program_name(program), "choices": "、".join(schemes)},
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


# --------------------------------------------------------------------------------------
# Enrolments
# --------------------------------------------------------------------------------------


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
    company = _company_for(actor, company)
    if case is not None:
        case = _case_for(actor, case, company)
    if joint_research_yen_per_year is not None and joint_research_yen_per_year < 0:
        raise ValidationFailed(
            _("共同研究費は0円以上で入力してください。"),
            field="joint_research_yen_per_year",
        )
    name = _program_name(program)
    if program.kind == ProgramKind.SUBSIDY:
        raise _not_eligible(
            _("この事業は申込ではなく補助金の見積もりで扱います。"), "program"
        )
    if not program.is_active:
        raise _not_eligible(
            _("%(program)sは現在受け付けていません。") % {"program": name}, "program"
        )

    # Lock the round: two applications of one company must not both pass the
    # duplicate check below.
    round_ = (
        ProgramRound.objects.select_for_update()
        .filter(program=program, fiscal_year=fiscal_year)
        .first()
    )
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

    scheme = _validate_scheme(program, scheme, joint_research_yen_per_year)
    reason = _company_refusal(program, company, today=today, fiscal_year=fiscal_year)
    if reason is not None:
        raise _not_eligible(reason)
    refusal = _conditions_refusal(
        program,
        company,
        fiscal_year=fiscal_year,
        confirmed_conditions=confirmed_conditions,
    )
    if refusal is not None:
        raise refusal
    if program.rules.get("requires_national_project") and not is_national_project:
        raise _not_eligible(
            _(
                "%(program)sの対象は、国プロ（競争的研究費による研究開発プロジェクト）"
                "を推進する機関です。国プロであること（is_national_project）を"
                "確認してください。"
            )
            % {"program": name},
            "is_national_project",
        )
    if scheme:
        refusal = _scheme_refusal(
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
    enrolment = _lock_enrolment(enrolment.pk)
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
        round_ = ProgramRound.objects.select_for_update().get(pk=enrolment.round_id)
        used = round_capacity_used(round_)
        if used >= round_.capacity:
            raise Conflict(
                _(
                    "%(program)sの%(year)sの採択枠（%(capacity)s件）は埋まっているため、"
                    "採択できません。"
                )
                % {
                    "program": _program_name(program),
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
        months = _rule(program, enrolment.scheme, "duration_months")
        enrolment.started_on = start
        enrolment.ends_on = add_months(start, int(months)) if months else None
        fields += ["started_on", "ends_on"]
    enrolment.status = status
    enrolment.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="enrolment.transition",
        obj=enrolment,
        data={"from": current, "to": status},
        changes={"status": [current, status]}
        | ({"started_on": [None, enrolment.started_on]} if status == S.ACTIVE else {}),
    )
    return enrolment


# --------------------------------------------------------------------------------------
# Support plans and support days
# --------------------------------------------------------------------------------------


@transaction.atomic
def support_plan_save(
    *,
    actor: Actor,
    enrolment: Enrolment,
    goals: str,
    achieved: bool | None = None,
    day_quota: int | None = None,
) -> tuple[SupportPlan, bool]:
    """Create or update the support plan of the enrolment's current period.

    Return (plan, created). Plans belong to accepted and active enrolments.
    `day_quota` sets the period's day limit where the program lets it be
    configured (iAca: 25–30 days, `rules.day_quota.min_configurable`); it
    may not fall below the days already logged in the period.
    """
    enrolment = _lock_enrolment(enrolment.pk)
    _require_support_staff(actor, enrolment)
    if enrolment.status not in PLAN_STATUSES:
        raise Conflict(
            _("「%(status)s」の参加には支援計画を登録できません。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    goals = (goals or "").strip()
    if not goals:
        raise ValidationFailed(_("支援計画の目標を入力してください。"), field="goals")
    defaults: dict[str, Any] = {"goals": goals}
    if achieved is not None:
        defaults["is_achieved"] = achieved
    if day_quota is not None:
        defaults["day_quota_days"] = _clean_day_quota(enrolment, day_quota)
    plan, created = SupportPlan.objects.update_or_create(
        enrolment=enrolment, period=enrolment.period, defaults=defaults
    )
    audit_record(
        actor=actor,
        action="support_plan.create" if created else "support_plan.update",
        obj=plan,
        data={"enrolment": enrolment.pk, "period": plan.period},
    )
    return plan, created


def _clean_day_quota(enrolment: Enrolment, day_quota: int) -> int:
    """Check a period's own day quota against the program's rules."""
    program = enrolment.program
    quota = _rule(program, enrolment.scheme, "day_quota") or {}
    minimum = quota.get("min_configurable")
    if minimum is None or quota.get("per", "period") != "period":
        raise ValidationFailed(
            _("%(program)sでは支援期ごとの日数上限を設定できません。")
            % {"program": _program_name(program)},
            field="day_quota",
        )
    maximum = quota["days"]
    if isinstance(day_quota, bool) or not minimum <= day_quota <= maximum:
        raise ValidationFailed(
            _(
                "%(program)sの支援期ごとの日数上限は%(min)s日から%(max)s日の間で"
                "設定してください。"
            )
            % {"program": _program_name(program), "min": minimum, "max": maximum},
            field="day_quota",
        )
    used = support_days_logged(enrolment)
    if used > day_quota:
        raise ValidationFailed(
            _(
                "第%(period)s期には既に%(used)s日を記録しているため、"
                "上限を%(limit)s日にはできません。"
            )
            % {
                "period": enrolment.period,
                "used": _days_text(used),
                "limit": day_quota,
            },
            field="day_quota",
        )
    return day_quota


def _clean_days(days: Decimal | float | int | str) -> Decimal:
    try:
        value = Decimal(str(days))
    except ArithmeticError:
        value = Decimal(0)
    if not (0 < value <= MAX_DAYS_PER_DATE) or value % DAY_STEP != 0:
        raise ValidationFailed(
            _("支援日数は0.5日または1日で入力してください。"), field="days"
        )
    return value


@transaction.atomic
def support_days_log(
    *,
    actor: Actor,
    enrolment: Enrolment,
    date: date,
    days: Decimal | float | int | str,
    note: str = "",
    today: date | None = None,
) -> SupportDay:
    """Log days of expert support on a date, within the program's day quota.

    Only active enrolments take support days (409 enrolment_not_active
    otherwise). Programs with `requires_support_plan` need the current
    period's plan first (400 plan_required). `rules.day_quota` caps the days
    per support period or per fiscal year of date (400 quota_exceeded); the
    enrolment row is locked, so two loggers cannot both pass the check.
    """
    today = today or timezone.localdate()
    days = _clean_days(days)
    enrolment = _lock_enrolment(enrolment.pk)
    program = enrolment.program
    _require_support_staff(actor, enrolment)
    if enrolment.status != S.ACTIVE:
        raise Conflict(
            _("支援日を記録できるのは支援中の参加だけです（現在: %(status)s）。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    if enrolment.started_on and date < enrolment.started_on:
        raise ValidationFailed(
            _("支援開始日（%(start)s）より前の日付は記録できません。")
            % {"start": f"{enrolment.started_on:%Y}/{enrolment.started_on.month}/{enrolment.started_on.day}"},
            field="date",
        )
    if date > today:
        raise ValidationFailed(_("未来の日付は記録できません。"), field="date")
    if (
        _rule(program, enrolment.scheme, "requires_support_plan", False)
        and not (
            SupportPlan.objects.filter(enrolment=enrolment, period=enrolment.period)
        ).exists()
    ):
        raise ValidationFailed(
            _(
                "%(program)sでは、支援日を記録する前に第%(period)s期の支援計画を登録してください。"
            )
            % {"program": _program_name(program), "period": enrolment.period},
            code="plan_required",
        )

    fy = fiscal_year_of(date)
    quota = enrolment_day_quota(enrolment, on=date)
    if quota is not None and days > quota.remaining:
        if quota.is_per_fiscal_year:
            per, scope = _("年度ごとに"), fiscal_year_short_label(fy)
        else:
            per = _("支援期ごとに")
            scope = _("第%(period)s期") % {"period": enrolment.period}
        if quota.configured:
            per = _("この期の支援計画で") + per
        raise ValidationFailed(
            _(
                "%(program)sの支援日数の上限は%(per)s%(limit)s日です。"
                "%(scope)sの残りは%(remaining)s日のため、%(days)s日は記録できません。"
            )
            % {
                "program": _program_name(program),
                "per": per,
                "limit": _days_text(quota.limit),
                "scope": scope,
                "remaining": _days_text(quota.remaining),
                "days": _days_text(days),
            },
            code="quota_exceeded",
            remaining_days=float(quota.remaining),
        )

    support_day = SupportDay.objects.create(
        enrolment=enrolment,
        date=date,
        fiscal_year=fy,
        period=enrolment.period,
        days=days,
        note=note or "",
        logged_by=actor.user,
    )
    Enrolment.objects.filter(pk=enrolment.pk).update(
        days_used=F("days_used") + days, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="support_day.log",
        obj=support_day,
        data={"enrolment": enrolment.pk, "days": str(days)},
    )
    return support_day


# --------------------------------------------------------------------------------------
# Support team and continuation
# --------------------------------------------------------------------------------------


def _team_roles(program: Program) -> list[str]:
    """Return the roles a program's team is made of (IPAS: IP + business expert)."""
    return list(program.rules.get("team") or [])


@transaction.atomic
def enrolment_team_add(
    *,
    actor: Actor,
    enrolment: Enrolment,
    membership: Membership | int,
    role: str,
) -> TeamMember:
    """Put an expert on the enrolment's support team, as the program's operator.

    The team is drawn from experts' memberships (any organisation of the
    network, role "expert"). A program listing `rules.team` (IPAS: an IP
    expert and a business expert, reference/programs.md §3) takes only those
    roles. Teams are formed for accepted and active enrolments.
    """
    enrolment = _lock_enrolment(enrolment.pk)
    program = enrolment.program
    _require_operator_staff(actor, program)
    if enrolment.status not in PLAN_STATUSES:
        raise Conflict(
            _("「%(status)s」の参加には支援チームを編成できません。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    allowed = _team_roles(program) or list(TeamRole.values)
    if role not in allowed:
        raise ValidationFailed(
            _("%(program)sの支援チームの役割は%(roles)sです。")
            % {
                "program": _program_name(program),
                "roles": "、".join(str(TeamRole(r).label) for r in allowed),
            },
            field="role",
        )
    pk = membership.pk if isinstance(membership, Membership) else membership
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = team_candidates().filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationFailed(
            _("専門家として登録された所属を選んでください。"), field="membership"
        )
    if TeamMember.objects.filter(enrolment=enrolment, membership=found).exists():
        raise Conflict(
            _("%(user)sは既にこの支援チームにいます。")
            % {"user": found.user.get_username()},
            code="already_on_team",
        )
    member = TeamMember.objects.create(enrolment=enrolment, membership=found, role=role)
    audit_record(
        actor=actor,
        action="enrolment.team_add",
        obj=enrolment,
        data={"membership": found.pk, "role": role},
    )
    return member


@transaction.atomic
def enrolment_team_remove(*, actor: Actor, member: TeamMember) -> None:
    """Take an expert off an enrolment's support team, as the program's operator."""
    enrolment = _lock_enrolment(member.enrolment_id)
    _require_operator_staff(actor, enrolment.program)
    deleted, _rows = TeamMember.objects.filter(
        pk=member.pk, enrolment=enrolment
    ).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="enrolment.team_remove",
            obj=enrolment,
            data={"membership": member.membership_id, "role": member.role},
        )


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
    enrolment = _lock_enrolment(enrolment.pk)
    program = enrolment.program
    _require_operator_staff(actor, program)
    name = _program_name(program)
    if not _rule(program, enrolment.scheme, "continuation", False):
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
    if _rule(program, enrolment.scheme, "continuation_requires_plan_achieved", False):
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
    months = _rule(program, enrolment.scheme, "duration_months")
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


# --------------------------------------------------------------------------------------
# Referral into a program (支援事業へ紹介)
# --------------------------------------------------------------------------------------


@transaction.atomic
def enrolment_refer(
    *,
    actor: Actor,
    program: Program,
    fiscal_year: int,
    case: Case | int,
    reason: str,
    topics: list[str],
    company: Company | int | None = None,
    scheme: str | None = None,
    joint_research_yen_per_year: int | None = None,
    is_national_project: bool = False,
    confirmed_conditions: Iterable[str] | None = None,
    today: date | None = None,
    now: datetime | None = None,
) -> Enrolment:
    """Refer a case to the program's operator and apply for the program, at once.

    One transaction: the application (eligibility first, 400 not_eligible)
    and the referral to the operator organisation (APPI consent, 409
    consent_required) are written together or not at all. The enrolment
    keeps the referral it came with.
    """
    pk = case.pk if isinstance(case, Case) else case
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = cases_visible_to(actor).filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise ValidationFailed(_("案件が見つかりません。"), field="case")
    operator = Organisation.objects.get(pk=program.operator_id)
    if actor.organisation_id == operator.pk:
        raise ValidationFailed(
            _(
                "%(program)sの実施機関（%(operator)s）の所属者は、紹介せずに"
                "そのまま申し込んでください。"
            )
            % {"program": _program_name(program), "operator": operator.name},
            field="program",
        )
    enrolment = enrolment_apply(
        actor=actor,
        program=program,
        fiscal_year=fiscal_year,
        company=found.company_id if company is None else company,
        case=found,
        scheme=scheme,
        joint_research_yen_per_year=joint_research_yen_per_year,
        is_national_project=is_national_project,
        confirmed_conditions=confirmed_conditions,
        today=today,
    )
    referral = referral_send(
        actor=actor,
        case=found,
        to_organisation=operator,
        reason=reason,
        topics=topics,
        now=now,
    )
    enrolment.referral = referral
    enrolment.save(update_fields=["referral", "updated_at"])
    return enrolment


# --------------------------------------------------------------------------------------
# Subsidy estimates
# --------------------------------------------------------------------------------------


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
    name = _program_name(program)
    if program.kind != ProgramKind.SUBSIDY or not program.rules.get("subsidy"):
        raise _not_eligible(
            _("%(program)sは補助金ではないため、見積もりできません。")
            % {"program": name},
            "program",
        )
    subsidy = program.rules["subsidy"]
    if company is not None:
        if actor is not None:
            company = _company_for(actor, company)
        elif not isinstance(company, Company):
            raise ValueError("a company id needs the actor to resolve it")
        reason = _company_refusal(
            program, company, today=today, fiscal_year=fiscal_year
        )
        if reason is not None:
            raise _not_eligible(reason)
        refusal = _conditions_refusal(
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
            "cost": _yen(cost),
            "n": numerator,
            "d": denominator,
            "amount": _yen(amount),
        }
        if unit > 1:
            explanation += _("（%(unit)s未満切り捨て）") % {"unit": _yen(unit)}
        case_cap = (
            squatting_rule["cap_per_case_yen"] if squatting else per_case.get(right)
        )
        if case_cap is not None:
            if amount > case_cap:
                amount = case_cap
                explanation += " → " + _yen(amount)
            explanation += _("（1件上限 %(cap)s）") % {"cap": _yen(case_cap)}
        if room is not None:
            if amount > room:
                amount = room
                explanation += _(
                    " → %(amount)s（%(cap_text)s %(cap)sの残り %(room)s）"
                ) % {
                    "amount": _yen(amount),
                    "cap_text": cap_text,
                    "cap": _yen(company_cap),
                    "room": _yen(room),
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
