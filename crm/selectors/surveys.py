"""Reads of satisfaction surveys: the surveyed organisation's managers only.

Free comments are the surveyed organisation's (DESIGN.md "Activities beyond
consultations"): its managers and org admins see its surveys; no one else
does, not even the organisation that referred the company.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.models import Survey
from support_network.actors import Actor
from support_network.choices import Role

SURVEY_ROLES = (Role.MANAGER, Role.ORG_ADMIN)


def surveys_visible_to(actor: Actor) -> QuerySet[Survey]:
    """Return the surveys of the actor's organisation (managers, org admins)."""
    qs = Survey.objects.select_related("company", "organisation", "from_organisation")
    if actor.is_superuser and actor.membership is None:
        return qs
    if actor.membership is None or actor.role not in SURVEY_ROLES:
        return qs.none()
    return qs.filter(organisation_id=actor.organisation_id)


def survey_status_q(status: str) -> Q:
    """Return the filter of one API status; `expired` = sent, unanswered, past due.

    `scheduled` includes `sending` (claimed by the sweep, e-mail not sent yet).
    """
    now = timezone.now()
    if status == "expired":
        return Q(status=Survey.Status.SENT, expires_at__lte=now)
    if status == Survey.Status.SENT:
        return Q(status=Survey.Status.SENT, expires_at__gt=now)
    if status == Survey.Status.SCHEDULED:
        # A survey being sent (its e-mail not accepted yet) is still scheduled.
        return Q(status__in=[Survey.Status.SCHEDULED, Survey.Status.SENDING])
    return Q(status=status)
