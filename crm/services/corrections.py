"""Correcting what was written: edit and void consultations and outcomes, reschedule follow-ups.

Real staff correct records every day; a public body must be able to void a
wrong entry without losing the audit trail. A voided (取消) record is
removed from the tables every list, timeline, statistic and export reads,
and its every value is kept in the audit event that voids it, with the
reason and who did it. Only the organisation that wrote a record changes
it (crm.permissions.record_require_changeable).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    FollowUp,
    Outcome,
)
from crm.permissions import record_require_changeable
from crm.selectors.visibility import (
    consultations_visible_to,
    follow_ups_visible_to,
    outcomes_visible_to,
)
from crm.services.assignment import is_active_member
from crm.services.audit import audit_record, changes_between
from crm.services.cases import outcome_fields_validate
from crm.services.consultations import (
    company_first_consultation_refresh,
    consultation_fields_validate,
)
from crm.services.follow_ups import MAX_FOLLOW_UP_DAYS
from crm.statistics.facts import consultation_facts_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import NotVisible, ValidationFailed

MAX_VOID_REASON = 500

# What PATCH consultations/{id}/ may change (API.md "Record upkeep").
CONSULTATION_FIELDS = (
    "occurred_at",
    "channel",
    "duration_minutes",
    "topics",
    "ip_types",
    "summary",
    "advice",
    "next_action",
)
OUTCOME_FIELDS = ("kind", "occurred_on", "reference", "amount_yen", "ip_type", "note")
FOLLOW_UP_FIELDS = ("due_on", "note", "assignee")


def _void_reason(reason: str) -> str:
    # The web form asks for a reason; the API's DELETE may come without one.
    reason = (reason or "").strip()
    if len(reason) > MAX_VOID_REASON:
        raise ValidationFailed(
            _("%(max)s文字以内で入力してください。") % {"max": MAX_VOID_REASON},
            field="reason",
        )
    return reason


def _check_fields(fields: dict[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields: {sorted(unknown)}")


def _consultation_values(c: Consultation) -> dict[str, Any]:
    """Every value of a consultation, as the audit trail keeps it."""
    return {
        "case": c.case_id,
        "company": c.company_id,
        "organisation": c.organisation_id,
        "author": c.author_id,
        "occurred_at": c.occurred_at.isoformat(),
        "channel": c.channel,
        "duration_minutes": c.duration_minutes,
        "topics": sorted(t.topic for t in c.topics.all()),
        "ip_types": sorted(t.ip_type for t in c.ip_types.all()),
        "summary": c.summary,
        "advice": c.advice,
        "next_action": c.next_action,
        "is_confidential": c.is_confidential,
        "attendees": sorted(o.code for o in c.attendees.all()),
    }


def _changeable(visible, record):
    """Return record locked as the actor sees it: 404 unseen, 403 not theirs."""
    found = (
        visible.select_for_update(of=("self",), no_key=True)
        .filter(pk=record.pk)
        .first()
    )
    if found is None:
        raise NotVisible(_("見つかりません。"))
    return found


def _changeable_consultation(actor: Actor, consultation: Consultation) -> Consultation:
    found = _changeable(consultations_visible_to(actor), consultation)
    record_require_changeable(actor, found)
    return found


@transaction.atomic
def consultation_update(
    *,
    actor: Actor,
    consultation: Consultation,
    now: datetime | None = None,
    **fields: Any,
) -> Consultation:
    """Correct a consultation; its statistics facts and 初回 marks follow at once."""
    now = now or timezone.now()
    _check_fields(fields, CONSULTATION_FIELDS)
    consultation = _changeable_consultation(actor, consultation)
    before = _consultation_values(consultation)
    topics = list(dict.fromkeys(fields.get("topics", before["topics"])))
    ip_types = list(dict.fromkeys(fields.get("ip_types", before["ip_types"])))
    occurred_at, occurred_on = consultation_fields_validate(
        occurred_at=fields.get("occurred_at", consultation.occurred_at),
        channel=fields.get("channel", consultation.channel),
        duration_minutes=fields.get("duration_minutes", consultation.duration_minutes),
        topics=topics,
        ip_types=ip_types,
        summary=fields.get("summary", consultation.summary),
        today=local_date(now),
    )
    moved = occurred_at != consultation.occurred_at
    consultation.occurred_at = occurred_at
    consultation.occurred_on = occurred_on
    consultation.fiscal_year = fiscal_year(occurred_at)
    for name in ("channel", "duration_minutes"):
        if name in fields:
            setattr(consultation, name, fields[name])
    for name in ("summary", "advice"):
        if name in fields:
            setattr(consultation, name, str(fields[name]).strip())
    if "next_action" in fields:
        consultation.next_action = str(fields["next_action"]).strip()[:200]
    consultation.save()
    if set(topics) != set(before["topics"]):
        ConsultationTopic.objects.filter(consultation=consultation).delete()
        ConsultationTopic.objects.bulk_create(
            ConsultationTopic(consultation=consultation, topic=t) for t in topics
        )
    if set(ip_types) != set(before["ip_types"]):
        ConsultationIpType.objects.filter(consultation=consultation).delete()
        ConsultationIpType.objects.bulk_create(
            ConsultationIpType(consultation=consultation, ip_type=t) for t in ip_types
        )
    if moved:
        # The company's first consultation may now be another one; this
        # also rewrites the facts of all its consultations.
        company_first_consultation_refresh(company_ids=[consultation.company_id])
    else:
        consultation_facts_refresh(consultation_ids=[consultation.pk])
    consultation = Consultation.objects.get(pk=consultation.pk)
    after = _consultation_values(consultation)
    audit_record(
        actor=actor,
        action="consultation.update",
        obj=consultation,
        now=now,
        changes=changes_between(before, after),
    )
    return consultation


@transaction.atomic
def consultation_void(
    *,
    actor: Actor,
    consultation: Consultation,
    reason: str = "",
    now: datetime | None = None,
) -> None:
    """Void (取消) a consultation typed in error.

    It is removed with its statistics facts; the audit event keeps every
    value, the reason and who voided it. If it was the company's first
    consultation, the next one becomes the first.
    """
    now = now or timezone.now()
    reason = _void_reason(reason)
    consultation = _changeable_consultation(actor, consultation)
    values = _consultation_values(consultation)
    was_first = consultation.is_company_first
    company_id = consultation.company_id
    pk = consultation.pk
    audit_record(
        actor=actor,
        action="consultation.void",
        obj=consultation,
        now=now,
        data={"reason": reason, "values": values},
    )
    # Its follow-ups stay (they are the case's), without the link.
    FollowUp.objects.filter(consultation_id=pk).update(consultation=None)
    consultation.delete()  # topics, IP types, attendees and facts go with it
    if was_first:
        company_first_consultation_refresh(company_ids=[company_id])


def _outcome_values(o: Outcome) -> dict[str, Any]:
    return {
        "case": o.case_id,
        "organisation": o.organisation_id,
        "kind": o.kind,
        "occurred_on": o.occurred_on.isoformat(),
        "reference": o.reference,
        "amount_yen": o.amount_yen,
        "ip_type": o.ip_type,
        "note": o.note,
        "recorded_by": o.recorded_by_id,
    }


def _changeable_outcome(actor: Actor, outcome: Outcome) -> Outcome:
    found = _changeable(outcomes_visible_to(actor), outcome)
    record_require_changeable(actor, found)
    return found


@transaction.atomic
def outcome_update(
    *, actor: Actor, outcome: Outcome, now: datetime | None = None, **fields: Any
) -> Outcome:
    """Correct an outcome (same rules as recording one)."""
    now = now or timezone.now()
    _check_fields(fields, OUTCOME_FIELDS)
    outcome = _changeable_outcome(actor, outcome)
    before = _outcome_values(outcome)
    for name, value in fields.items():
        if name in ("reference", "ip_type", "note"):
            value = str(value or "").strip()
        setattr(outcome, name, value)
    outcome_fields_validate(
        kind=outcome.kind,
        occurred_on=outcome.occurred_on,
        reference=outcome.reference,
        amount_yen=outcome.amount_yen,
        ip_type=outcome.ip_type,
        today=local_date(now),
    )
    outcome.save()
    audit_record(
        actor=actor,
        action="outcome.update",
        obj=outcome,
        now=now,
        changes=changes_between(before, _outcome_values(outcome)),
    )
    return outcome


@transaction.atomic
def outcome_void(
    *, actor: Actor, outcome: Outcome, reason: str = "", now: datetime | None = None
) -> None:
    """Void an outcome recorded in error; the audit event keeps its values."""
    now = now or timezone.now()
    reason = _void_reason(reason)
    outcome = _changeable_outcome(actor, outcome)
    audit_record(
        actor=actor,
        action="outcome.void",
        obj=outcome,
        now=now,
        data={"reason": reason, "values": _outcome_values(outcome)},
    )
    outcome.delete()


@transaction.atomic
def follow_up_update(
    *,
    actor: Actor,
    follow_up: FollowUp,
    now: datetime | None = None,
    **fields: Any,
) -> FollowUp:
    """Reschedule a follow-up (due date, note, assignee within its organisation).

    A new due date starts its reminders afresh.
    """
    now = now or timezone.now()
    _check_fields(fields, FOLLOW_UP_FIELDS)
    follow_up = _changeable(follow_ups_visible_to(actor), follow_up)
    record_require_changeable(actor, follow_up)
    before = {
        "due_on": follow_up.due_on,
        "note": follow_up.note,
        "assignee": follow_up.assignee_id,
    }
    today = local_date(now)
    if "due_on" in fields:
        due_on: date = fields["due_on"]
        if due_on < today:
            raise ValidationFailed(
                _("期日は今日以降の日付にしてください。"), field="due_on"
            )
        if (due_on - today).days > MAX_FOLLOW_UP_DAYS:
            raise ValidationFailed(
                _("フォローアップ日は5年以内の日付にしてください。"), field="due_on"
            )
        if due_on != follow_up.due_on:
            follow_up.due_on = due_on
            follow_up.reminded_count = 0
            follow_up.last_reminded_on = None
            follow_up.escalated_at = None
    if "note" in fields:
        follow_up.note = str(fields["note"] or "").strip()[:200]
    if "assignee" in fields:
        assignee = fields["assignee"]
        if not is_active_member(
            getattr(assignee, "pk", None), follow_up.organisation_id
        ):
            raise ValidationFailed(
                _("担当者はフォローアップの組織の職員から選んでください。"),
                field="assignee",
            )
        follow_up.assignee = assignee
    follow_up.save()
    audit_record(
        actor=actor,
        action="follow_up.update",
        obj=follow_up,
        now=now,
        changes=changes_between(
            before,
            {
                "due_on": follow_up.due_on,
                "note": follow_up.note,
                "assignee": follow_up.assignee_id,
            },
        ),
    )
    return follow_up
