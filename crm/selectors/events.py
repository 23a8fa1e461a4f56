"""Reads of network events: public facts to every member, registrations to hosts.

An event's public facts (title, kind, date, place, hosts, how many seats are
taken) are visible network-wide so windows can send companies to each
other's events; who registered is seen only by the host and the co-hosts
(DESIGN.md "Activities beyond consultations").
"""

from __future__ import annotations

from django.db.models import BooleanField, Count, Exists, OuterRef, Q, QuerySet, Value

from crm.models import Event, EventAttendee
from support_network.actors import Actor


def _hosted_q(organisation_id: int | None) -> Q:
    cohosted = Exists(
        Event.cohosts.through.objects.filter(
            event_id=OuterRef("pk"), organisation_id=organisation_id
        )
    )
    return Q(organisation_id=organisation_id) | Q(cohosted)


def events_visible_to(actor: Actor) -> QuerySet[Event]:
    """Return every event (public facts) with `is_host` and `attendees_count`."""
    qs = Event.objects.select_related("organisation").prefetch_related(
        "cohosts", "topics"
    )
    qs = qs.annotate(attendees_count=Count("attendees", distinct=True))
    if actor.is_superuser and actor.membership is None:
        return qs.annotate(is_host=Value(True, output_field=BooleanField()))
    if actor.membership is None:
        return qs.none()
    return qs.annotate(is_host=_hosted_q(actor.organisation_id))


def events_hosted_by(actor: Actor) -> QuerySet[Event]:
    """Return the events the actor's organisation hosts or co-hosts."""
    return events_visible_to(actor).filter(is_host=True)


def event_attendees_visible_to(actor: Actor, event: Event) -> QuerySet[EventAttendee]:
    """Return the event's registrations, or none unless the actor hosts it."""
    qs = EventAttendee.objects.filter(event=event).select_related(
        "company", "company__prefecture", "registered_by"
    )
    if actor.is_superuser and actor.membership is None:
        return qs.order_by("company__name_kana", "company__name", "pk")
    if actor.membership is None:
        return qs.none()
    hosted = events_hosted_by(actor).filter(pk=event.pk).exists()
    if not hosted:
        return qs.none()
    return qs.order_by("company__name_kana", "company__name", "pk")
