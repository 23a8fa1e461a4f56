"""Reads for the home page ("my work"): a member of staff's follow-ups and waiting work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from crm.choices import FollowUpStatus, ReferralStatus
from crm.models import Consultation, FollowUp, Referral
from crm.selectors.visibility import (
    consultations_visible_to,
    follow_ups_visible_to,
    referrals_visible_to,
)
from support_network.actors import Actor


@dataclass(frozen=True)
class MyWork:
    """What the "my work" page shows a member of staff."""

    overdue: list[FollowUp]
    today: list[FollowUp]
    upcoming: list[FollowUp]
    consultations: list[Consultation]
    referrals_waiting: list[Referral]


# How far ahead the page lists follow-ups, and how many recent consultations.
MY_WORK_UPCOMING_DAYS = 14
MY_WORK_RECENT = 15


def my_work(actor: Actor, *, today: date) -> MyWork:
    """Return the actor's open follow-ups, recent consultations and waiting referrals."""
    follow_ups = list(
        follow_ups_visible_to(actor)
        .filter(
            assignee_id=actor.user.pk,
            status=FollowUpStatus.OPEN,
            due_on__lte=today + timedelta(days=MY_WORK_UPCOMING_DAYS),
        )
        .select_related("case", "case__company")
        .order_by("due_on", "id")[:200]
    )
    consultations = list(
        consultations_visible_to(actor)
        .filter(author_id=actor.user.pk)
        .prefetch_related("topics")
        .order_by("-occurred_at", "-id")[:MY_WORK_RECENT]
    )
    referrals: list[Referral] = []
    if actor.organisation_id is not None:
        referrals = list(
            referrals_visible_to(actor)
            .filter(
                to_organisation_id=actor.organisation_id,
                status=ReferralStatus.SENT,
            )
            .select_related("case", "case__company", "from_organisation")
            .order_by("respond_by", "id")[:100]
        )
    return MyWork(
        overdue=[f for f in follow_ups if f.due_on < today],
        today=[f for f in follow_ups if f.due_on == today],
        upcoming=[f for f in follow_ups if f.due_on > today],
        consultations=consultations,
        referrals_waiting=referrals,
    )
