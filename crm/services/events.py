"""Network events (セミナー・研修・連携会議・出張相談会): create, edit, registrations.

The host organisation creates and edits an event; registrations are taken
under the event's row lock (crm/lock_objects.py), so the capacity holds
when many windows register companies at once (409 `event_full`).
`attendee_register_with_new_company` registers an unregistered company
first, in the same transaction, with the registry's duplicate check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import EventKind, Topic
from crm.lock_objects import company_lock_active, event_lock
from crm.models import Company, Event, EventAttendee, EventTopic
from crm.permissions import (
    event_require_attendance_keeper,
    event_require_editable,
    event_require_registrar,
)
from crm.services.audit import audit_record
from crm.services.companies import company_create
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import Conflict, ValidationFailed
from support_network.models import Organisation

EVENT_FIELDS = (
    "title",
    "kind",
    "starts_at",
    "ends_at",
    "place",
    "is_online",
    "capacity",
)


def _cohost_organisations(
    host: Organisation, codes: Iterable[str]
) -> list[Organisation]:
    codes = [c for c in dict.fromkeys(codes) if c]
    found = {
        o.code: o for o in Organisation.objects.filter(code__in=codes, is_active=True)
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed(
            _("共催組織のコードが正しくありません: %(codes)s")
            % {"codes": ", ".join(unknown)},
            field="cohosts",
        )
    if host.code in found:
        raise ValidationFailed(
            _("共催組織に主催組織は指定できません。"), field="cohosts"
        )
    return [found[c] for c in codes]


def _topics_clean(topics: Iterable[str]) -> list[str]:
    topics = list(dict.fromkeys(topics))
    bad = [t for t in topics if t not in Topic.values]
    if bad:
        raise ValidationFailed(
            _("分野が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="topics",
        )
    return topics


def _event_validate(event: Event) -> None:
    if not (event.title or "").strip():
        raise ValidationFailed(_("名称を入力してください。"), field="title")
    if event.kind not in EventKind.values:
        raise ValidationFailed(_("種類が正しくありません。"), field="kind")
    if event.starts_at is None:
        raise ValidationFailed(_("開始日時を入力してください。"), field="starts_at")
    if timezone.is_naive(event.starts_at):
        event.starts_at = timezone.make_aware(event.starts_at)
    if event.ends_at is not None:
        if timezone.is_naive(event.ends_at):
            event.ends_at = timezone.make_aware(event.ends_at)
        if event.ends_at < event.starts_at:
            raise ValidationFailed(
                _("終了日時は開始日時より後にしてください。"), field="ends_at"
            )
    if event.capacity is not None and event.capacity < 1:
        raise ValidationFailed(
            _("定員は1以上で入力してください（定員なしは空欄）。"), field="capacity"
        )
    if not event.is_online and not (event.place or "").strip():
        raise ValidationFailed(
            _("会場を入力するか、オンライン開催にしてください。"), field="place"
        )
    event.title = event.title.strip()
    event.place = (event.place or "").strip()
    event.starts_on = local_date(event.starts_at)
    event.fiscal_year = fiscal_year(event.starts_at)


@transaction.atomic
def event_create(
    *,
    actor: Actor,
    title: str,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    place: str = "",
    is_online: bool = False,
    capacity: int | None = None,
    topics: Iterable[str] = (),
    cohosts: Iterable[str] = (),
) -> Event:
    """Create an event hosted by the actor's organisation, with co-hosts by code."""
    actor.require_membership()
    if actor.is_expert:
        raise ValidationFailed(
            _("専門家はイベントを登録できません。"), code="not_permitted"
        )
    event = Event(
        organisation=actor.organisation,
        title=title,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        is_online=is_online,
        capacity=capacity,
        created_by=actor.user,
    )
    _event_validate(event)
    cohost_orgs = _cohost_organisations(actor.organisation, cohosts)
    topics = _topics_clean(topics)
    event.save()
    event.cohosts.set(cohost_orgs)
    EventTopic.objects.bulk_create(EventTopic(event=event, topic=t) for t in topics)
    audit_record(actor=actor, action="event.create", obj=event)
    return event


@transaction.atomic
def event_update(
    *,
    actor: Actor,
    event: Event,
    fields: Mapping[str, Any],
) -> Event:
    """Change an event's fields, topics and co-hosts (host organisation only).

    A capacity below the registrations already taken is refused.
    """
    event_require_editable(actor, event)
    event = event_lock(event.pk)
    unknown = set(fields) - set(EVENT_FIELDS) - {"topics", "cohosts"}
    if unknown:
        raise ValueError(f"unknown event fields: {sorted(unknown)}")
    for name in EVENT_FIELDS:
        if name in fields:
            setattr(event, name, fields[name])
    _event_validate(event)
    if event.capacity is not None:
        taken = event.attendees.count()
        if taken > event.capacity:
            raise ValidationFailed(
                _("定員は登録済みの%(count)s名以上にしてください。") % {"count": taken},
                field="capacity",
            )
    if "cohosts" in fields:
        event.cohosts.set(_cohost_organisations(event.organisation, fields["cohosts"]))
    if "topics" in fields:
        topics = _topics_clean(fields["topics"])
        event.topics.all().delete()
        EventTopic.objects.bulk_create(EventTopic(event=event, topic=t) for t in topics)
    event.save()
    audit_record(actor=actor, action="event.update", obj=event)
    return event


def event_seats_taken(event: Event) -> int:
    """Return how many registrations the event holds (its seats taken)."""
    return EventAttendee.objects.filter(event=event).count()


def _contact_clean(contact_name: str, contact_email: str) -> tuple[str, str]:
    contact_name = (contact_name or "").strip()
    contact_email = (contact_email or "").strip()
    if contact_email:
        try:
            validate_email(contact_email)
        except DjangoValidationError as exc:
            raise ValidationFailed(
                _("メールアドレスの形式が正しくありません。"), field="contact_email"
            ) from exc
    return contact_name, contact_email


@transaction.atomic
def attendee_register(
    *,
    actor: Actor,
    event: Event,
    company: Company,
    contact_name: str = "",
    contact_email: str = "",
) -> EventAttendee:
    """Register a company for an event; 409 `event_full` past its capacity.

    The event row is locked before the registrations are counted, so the
    last seat goes to exactly one of two concurrent registrations.
    """
    event_require_registrar(actor)
    contact_name, contact_email = _contact_clean(contact_name, contact_email)
    event = event_lock(event.pk)
    company = company_lock_active(company.pk)
    if event.attendees.filter(company=company).exists():
        raise Conflict(
            _("この企業等は既にこのイベントに登録されています。"),
            code="already_registered",
        )
    if event.capacity is not None and event_seats_taken(event) >= event.capacity:
        raise Conflict(
            _("定員（%(capacity)s名）に達しているため登録できません。")
            % {"capacity": event.capacity},
            code="event_full",
        )
    try:
        with transaction.atomic():
            attendee = EventAttendee.objects.create(
                event=event,
                company=company,
                contact_name=contact_name,
                contact_email=contact_email,
                registered_by=actor.organisation or event.organisation,
            )
    except IntegrityError as exc:
        raise Conflict(
            _("この企業等は既にこのイベントに登録されています。"),
            code="already_registered",
        ) from exc
    audit_record(actor=actor, action="event.attendee_register", obj=attendee)
    return attendee


@transaction.atomic
def attendee_register_with_new_company(
    *,
    actor: Actor,
    event: Event,
    company_fields: Mapping[str, Any],
    contact_name: str = "",
    contact_email: str = "",
) -> EventAttendee:
    """Register a new company (duplicate check included), then the registration."""
    event_require_registrar(actor)
    company = company_create(actor=actor, **dict(company_fields))
    return attendee_register(
        actor=actor,
        event=event,
        company=company,
        contact_name=contact_name,
        contact_email=contact_email,
    )


@transaction.atomic
def attendee_attend(
    *,
    actor: Actor,
    attendee: EventAttendee,
    is_attended: bool = True,
    now: datetime | None = None,
) -> EventAttendee:
    """Tick (or untick) a registration on the attendance sheet (hosts only)."""
    event_require_attendance_keeper(actor, attendee.event)
    attendee = EventAttendee.objects.select_for_update().get(pk=attendee.pk)
    if attendee.is_attended == is_attended:
        return attendee
    attendee.is_attended = is_attended
    attendee.attended_at = (now or timezone.now()) if is_attended else None
    attendee.save(update_fields=["is_attended", "attended_at", "updated_at"])
    audit_record(
        actor=actor,
        action="event.attend" if is_attended else "event.unattend",
        obj=attendee,
    )
    return attendee
