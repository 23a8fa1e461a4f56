"""Reads of the inbox pages: referrals to or from my organisation, my notifications.

The referral inbox/outbox starts from `referral_records_visible_to` and marks
whether each referral's case page would open for the actor (a receiver no
longer sees the case of a declined referral). Notifications are the user's
own, whatever organisation they act for.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from crm.models import Notification, Referral
from crm.selectors.visibility import cases_visible_to, referral_records_visible_to
from support_network.actors import Actor


def inbox_referral_list(
    actor: Actor, *, box: str, status: str, limit: int
) -> list[Referral]:
    """Return the newest `limit` referrals to ("in") or from ("out") my organisation."""
    qs = referral_records_visible_to(actor).filter(
        **{
            "to_organisation_id" if box == "in" else "from_organisation_id": (
                actor.organisation_id
            )
        }
    )
    if status:
        qs = qs.filter(status=status)
    return list(
        qs.select_related(
            "case__company",
            "from_organisation",
            "to_organisation",
            "sent_by",
            "assignee",
        )
        .prefetch_related("topics")
        .annotate(
            # A receiver no longer sees the case of a declined referral:
            # link it only when the case page would open.
            case_visible=Exists(cases_visible_to(actor).filter(pk=OuterRef("case_id")))
        )
        .order_by("-sent_at", "-id")[:limit]
    )


def user_notification_list(user, *, limit: int) -> list[Notification]:
    """Return the user's newest `limit` notifications."""
    return list(
        Notification.objects.filter(recipient=user).order_by("-created_at", "-id")[
            :limit
        ]
    )


def user_notification_get(user, pk: int) -> Notification | None:
    """Return the user's notification pk (None for someone else's)."""
    return Notification.objects.filter(pk=pk, recipient=user).first()


def user_unread_notifications(user, *, limit: int) -> QuerySet[Notification]:
    """Return at most `limit` unread notifications of the user, oldest first."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).order_by(
        "pk"
    )[:limit]


def user_unread_notification_count(user) -> int:
    """Return how many notifications the user has not read (the header's badge)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
