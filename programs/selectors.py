"""Reads of programs: enrolment visibility, round capacity, subsidies granted.

Every list, detail and action on enrolments starts from
`enrolments_visible_to(actor)`, so an enrolment the caller may not see does
not exist for them (404, absent from lists), as for cases (crm/selectors/visibility.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as SqlCase

from crm.choices import OutcomeKind
from crm.models import Company, Outcome
from crm.selectors.visibility import case_visibility_q
from programs.choices import EnrolmentStatus, ProgramCode, ProgramKind
from programs.models import (
    Enrolment,
    Program,
    ProgramRound,
    SupportDay,
    SupportPlan,
    TeamMember,
)
from support_network.actors import Actor
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_bounds
from support_network.choices import Role
from support_network.models import Membership
from support_network.selectors import active_memberships

# Roles of the operator that run its programs (select, start, end, team).
OPERATOR_ROLES = (Role.COORDINATOR, Role.MANAGER)

# Enrolments holding a seat of their round (採択枠): the capacity counts these.
SEATED_STATUSES = (
    EnrolmentStatus.ACCEPTED,
    EnrolmentStatus.ACTIVE,
    EnrolmentStatus.COMPLETED,
)


def enrolments_visible_to(actor: Actor) -> QuerySet[Enrolment]:
    """Return the enrolments the actor may see, each with `case_is_visible`.

    docs/visibility.md "Enrolments": whoever may see the enrolment's case
    sees the enrolment with its case (DESIGN.md rules 3–4: a confidential
    case only its assigned staff, managers, org admins and the organisations
    it was referred to). The applying organisation's members (experts
    excepted) see its enrolments without a case; the experts on the support
    team see the enrolments they work on; the program's operator (its
    members except experts) sees every enrolment of the programs it runs,
    as the application: `case_is_visible` is False where the actor may not
    see the case, and nothing of the case (its id, its referral) is shown
    then. Superusers see all.
    """
    qs = Enrolment.objects.select_related(
        "program", "round", "company", "organisation", "case"
    )
    if actor.is_superuser:
        return qs.annotate(case_is_visible=Value(True))
    if actor.membership is None:
        return qs.none().annotate(case_is_visible=Value(False))
    sees_case = case_visibility_q(actor, "case__")
    # Exists, not a join: a join over the team would repeat enrolments.
    on_team = Q(
        Exists(
            TeamMember.objects.filter(
                enrolment_id=OuterRef("pk"), membership_id=actor.membership.pk
            )
        )
    )
    visible = sees_case | on_team
    if actor.role != Role.EXPERT:
        visible |= Q(case__isnull=True, organisation_id=actor.organisation_id)
        visible |= Q(program__operator_id=actor.organisation_id)
    return qs.filter(visible).annotate(
        case_is_visible=SqlCase(
            When(sees_case, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def round_capacity_used(round: ProgramRound) -> int:
    """Return how many seats of the round are taken (accepted/active/completed)."""
    return Enrolment.objects.filter(round=round, status__in=SEATED_STATUSES).count()


def support_days_logged(
    enrolment: Enrolment, *, fiscal_year: int | None = None
) -> Decimal:
    """Return the days logged on the enrolment: in fiscal_year, else its period."""
    qs = SupportDay.objects.filter(enrolment=enrolment)
    if fiscal_year is not None:
        qs = qs.filter(fiscal_year=fiscal_year)
    else:
        qs = qs.filter(period=enrolment.period)
    return qs.aggregate(total=Sum("days"))["total"] or Decimal(0)


def subsidy_granted_yen(
    *, company: Company, program: Program, fiscal_year: int | None = None
) -> int:
    """Return the subsidy of program already granted to company, in yen.

    Grants are recorded as crm outcomes of kind "subsidy" whose `reference`
    is the program code (e.g. "overseas_filing"); with fiscal_year only
    those that occurred in that fiscal year count. The sum covers every
    organisation's outcomes: a per-company cap is company-wide, and only the
    total leaves this function.
    """
    qs = Outcome.objects.filter(
        company=company, kind=OutcomeKind.SUBSIDY, reference=program.code
    )
    if fiscal_year is not None:
        first, last = fiscal_year_bounds(fiscal_year)
        qs = qs.filter(occurred_on__gte=first, occurred_on__lte=last)
    return qs.aggregate(total=Sum("amount_yen"))["total"] or 0


# --------------------------------------------------------------------------------------
# Rules and who runs a program
# --------------------------------------------------------------------------------------


def program_rule(
    program: Program, scheme: str | None, key: str, default: Any = None
) -> Any:
    """Return a rule of the program, a scheme's own value winning over the top level."""
    scheme_rules = (program.rules.get("schemes") or {}).get(scheme or "", {}) or {}
    if key in scheme_rules:
        return scheme_rules[key]
    return program.rules.get(key, default)


def is_operator_staff(actor: Actor, program: Program) -> bool:
    """Return whether the actor runs the program: its operator's coordinators/managers."""
    return actor.is_superuser or (
        actor.organisation_id == program.operator_id and actor.has_role(*OPERATOR_ROLES)
    )


def is_on_team(actor: Actor, enrolment: Enrolment) -> bool:
    """Return whether the actor's membership is on the enrolment's support team."""
    return (
        actor.membership is not None
        and TeamMember.objects.filter(
            enrolment=enrolment, membership=actor.membership
        ).exists()
    )


def team_candidates() -> QuerySet[Membership]:
    """Return the memberships a support team is drawn from: active experts."""
    return (
        active_memberships()
        .filter(role=Role.EXPERT)
        .select_related("user", "organisation")
        .prefetch_related("expertise")
        .order_by("organisation__code", "user__username")
    )


# --------------------------------------------------------------------------------------
# Day quotas
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayQuota:
    """The day quota an enrolment's support days count against, on one date."""

    limit: Decimal
    used: Decimal
    per: str  # "period" or "fiscal_year" (rules.day_quota.per)
    period: int
    fiscal_year: int
    # Set when the period's plan lowers the program's quota (iAca 25–30).
    configured: bool = False

    @property
    def remaining(self) -> Decimal:
        return max(self.limit - self.used, Decimal(0))

    @property
    def is_per_fiscal_year(self) -> bool:
        return self.per == "fiscal_year"


def enrolment_day_quota(enrolment: Enrolment, *, on: date) -> DayQuota | None:
    """Return the quota days logged on date count against, or None without one.

    `rules.day_quota` caps days per support period (iAca) or per fiscal year
    of the date (iNat); the current period's support plan may set a lower
    limit where the rules allow it (`min_configurable`).
    """
    quota = program_rule(enrolment.program, enrolment.scheme, "day_quota")
    if not quota:
        return None
    limit = Decimal(str(quota["days"]))
    configured = False
    plan_limit = (
        SupportPlan.objects.filter(enrolment=enrolment, period=enrolment.period)
        .values_list("day_quota_days", flat=True)
        .first()
    )
    if plan_limit is not None and quota.get("min_configurable") is not None:
        limit = min(limit, Decimal(plan_limit))
        configured = True
    per = quota.get("per") or "period"
    fy = fiscal_year_of(on)
    used = support_days_logged(
        enrolment, fiscal_year=fy if per == "fiscal_year" else None
    )
    return DayQuota(
        limit=limit,
        used=used,
        per=per,
        period=enrolment.period,
        fiscal_year=fy,
        configured=configured,
    )


# --------------------------------------------------------------------------------------
# Program pages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundUse:
    """A round with its seats taken (an aggregate: no enrolment is named)."""

    round: ProgramRound
    used: int

    @property
    def is_full(self) -> bool:
        return self.used >= self.round.capacity


def rounds_with_use(program: Program) -> list[RoundUse]:
    """Return the program's rounds, oldest first, with their seats taken."""
    rounds = program.rounds.annotate(
        seats=Count("enrolments", filter=Q(enrolments__status__in=SEATED_STATUSES))
    ).order_by("fiscal_year")
    return [RoundUse(round=r, used=r.seats) for r in rounds]


def programs_list() -> QuerySet[Program]:
    """Return the active programs in the order of ProgramCode (IPAS, VC-IPAS, …)."""
    listed = SqlCase(
        *(When(code=code, then=Value(n)) for n, code in enumerate(ProgramCode.values)),
        default=Value(len(ProgramCode.values)),
        output_field=IntegerField(),
    )
    return (
        Program.objects.filter(is_active=True)
        .select_related("operator")
        .order_by(listed, "code")
    )


def enrolment_programs() -> QuerySet[Program]:
    """Return the active programs one applies to (not the subsidies)."""
    return programs_list().filter(kind=ProgramKind.ENROLMENT)


def program_enrolments_visible_to(
    actor: Actor, program: Program
) -> QuerySet[Enrolment]:
    """Return the program's enrolments the actor may see, newest first."""
    return enrolments_visible_to(actor).filter(program=program).order_by("-id")


def enrolment_team(enrolment: Enrolment) -> QuerySet[TeamMember]:
    """Return the enrolment's support team, people and organisations loaded."""
    return (
        TeamMember.objects.filter(enrolment=enrolment)
        .select_related("membership__user", "membership__organisation")
        .order_by("role", "id")
    )


def enrolment_support_days(
    enrolment: Enrolment, *, fiscal_year: int | None = None
) -> QuerySet[SupportDay]:
    """Return the support days that count now: of *fiscal_year* when the quota
    is per fiscal year, else of the current support period."""
    qs = SupportDay.objects.filter(enrolment=enrolment).select_related("logged_by")
    if fiscal_year is not None:
        return qs.filter(fiscal_year=fiscal_year)
    return qs.filter(period=enrolment.period)


def enrolment_round_fiscal_years() -> QuerySet:
    """Return the fiscal years that active enrolment programs have rounds for."""
    return ProgramRound.objects.filter(
        program__kind=ProgramKind.ENROLMENT, program__is_active=True
    ).values_list("fiscal_year", flat=True)


def program_round_get(*, code: str, fiscal_year: int) -> ProgramRound | None:
    """Return the round of a program in a fiscal year, or None."""
    return (
        ProgramRound.objects.filter(program__code=code, fiscal_year=fiscal_year)
        .select_related("program")
        .first()
    )
