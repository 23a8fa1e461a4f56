"""The audit trail (DESIGN.md "Who sees what" rule 7)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from crm.models import AuditEvent
from support_network.actors import Actor


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: Any = None,
    data: dict | None = None,
    now=None,
    organisation=None,
) -> AuditEvent:
    """Write an audit event (DESIGN.md "Who sees what" rule 7).

    The event belongs to the actor's organisation (whose org admins read
    it), or to `organisation` when given (a failed login has no actor but
    concerns the account's organisation).
    """
    if organisation is None and actor is not None:
        organisation = actor.organisation
    return AuditEvent.objects.create(
        actor=actor.user if actor else None,
        organisation=organisation,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        at=now or timezone.now(),
        data=data or {},
    )
