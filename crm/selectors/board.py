"""Reads of the coordinator board: the open cases that need attention, and who may take them.

The board lists the open cases of the actor's organisation, or, for a hub's
coordinator, every open case the hub rule lets them see (the rule itself is
`crm.selectors.visibility.hub_q`, the one the case visibility uses), with correlated
counts of overdue and escalated follow-ups and of waiting referrals, so one
query ranks them without join fan-out. Whom a case, a referral or a follow-up
may be assigned to (the member selects of the board, the inbox, the case list
and the follow-up form) is the organisation's active members
(`support_network.selectors.active_members`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from crm.choices import CaseStatus, FollowUpStatus, ReferralStatus
from crm.models import Case, FollowUp, Referral
from crm.selectors.visibility import (
    cases_visible_to,
    consultations_visible_to,
    hub_q,
    referral_records_visible_to,
)
from support_network.actors import Actor
from support_network.models import Membership
from support_network.selectors import active_members


@dataclass
class Board:
    """What the board shows: ranked open cases, and accepted referrals to work on."""

    cases: list[Case]
    is_hub: bool
    received: QuerySet[Referral]


def _count(qs) -> Coalesce:
    """Return a correlated COUNT subquery (one per row, no join fan-out)."""
    return Coalesce(
        Subquery(
            qs.values("case_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def board_get(actor: Actor, *, today: date, limit: int) -> Board:
    """Return the board of the actor: at most `limit` cases, escalated first."""
    qs = cases_visible_to(actor).filter(status=CaseStatus.OPEN)
    is_hub = hub_q(actor, "") is not None
    if not is_hub:
        qs = qs.filter(organisation_id=actor.organisation_id)
    open_follow_ups = FollowUp.objects.filter(
        case_id=OuterRef("pk"), status=FollowUpStatus.OPEN
    )
    last_consultation = (
        consultations_visible_to(actor)
        .filter(case_id=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    cases = list(
        qs.annotate(
            last_activity=Subquery(last_consultation),
            overdue_follow_ups=_count(open_follow_ups.filter(due_on__lt=today)),
            waiting_referrals=_count(
                Referral.objects.filter(
                    case_id=OuterRef("pk"), status=ReferralStatus.SENT
                )
            ),
            escalated=_count(open_follow_ups.filter(escalated_at__isnull=False))
            + _count(
                Referral.objects.filter(
                    case_id=OuterRef("pk"),
                    status=ReferralStatus.SENT,
                    escalated_at__isnull=False,
                )
            ),
        ).order_by("-escalated", "-overdue_follow_ups", "-waiting_referrals", "-id")[
            :limit
        ]
    )
    # Accepted referrals to my organisation: the receiving side's work.
    received = (
        referral_records_visible_to(actor)
        .filter(
            to_organisation_id=actor.organisation_id,
            status=ReferralStatus.ACCEPTED,
        )
        .select_related("case__company", "from_organisation", "assignee")
        .order_by("-answered_at", "-id")[:limit]
    )
    return Board(cases=cases, is_hub=is_hub, received=received)


def assignable_members(organisation_id: int) -> QuerySet[Membership]:
    """Return the organisation's active members by username, users loaded."""
    return (
        active_members([organisation_id])
        .select_related("user")
        .order_by("user__username")
    )


def assignable_member_get(organisation_id: int, user_id: int):
    """Return the user of an active member of the organisation (DoesNotExist if none)."""
    return assignable_members(organisation_id).get(user_id=user_id).user
