"""Reads of programs: enrolment visibility, round capacity, subsidies granted.

Every list, detail and action on enrolments starts from
`enrolments_visible_to(actor)`, so an enrolment the caller may not see does
not exist for them (404, absent from lists), as for cases (crm/selectors.py).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum

from crm.choices import OutcomeKind
from crm.models import Company, Outcome
from crm.selectors import case_visibility_q
from programs.choices import EnrolmentStatus
from programs.models import (
    Enrolment,
    Program,
    ProgramRound,
    SupportDay,
    TeamMember,
)
from support_network.actors import Actor
from support_network.calendar import fiscal_year_bounds

# Enrolments holding a seat of their round (採択枠): the capacity counts these.
SEATED_STATUSES = (
    EnrolmentStatus.ACCEPTED,
    EnrolmentStatus.ACTIVE,
    EnrolmentStatus.COMPLETED,
)


def enrolments_visible_to(actor: Actor) -> QuerySet[Enrolment]:
    """Return the enrolments the actor may see.

    Members of the applying organisation and of the program's operator see
    an enrolment, and so do the experts on its support team (they log its
    support days) and whoever may see the case it belongs to; superusers
    see all.
    """
    qs = Enrolment.objects.select_related(
        "program", "round", "company", "organisation", "case"
    )
    if actor.is_superuser:
        return qs
    if actor.membership is None:
        return qs.none()
    # Exists, not a join: a join over the team would repeat enrolments.
    on_team = Exists(
        TeamMember.objects.filter(
            enrolment_id=OuterRef("pk"), membership_id=actor.membership.pk
        )
    )
    return qs.filter(
        Q(organisation_id=actor.organisation_id)
        | Q(program__operator_id=actor.organisation_id)
        | Q(on_team)
        | case_visibility_q(actor, "case__")
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
