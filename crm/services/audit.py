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
) -> AuditEvent:
    """Write an audit event (DESIGN.md "Who sees what" rule 7)."""
    return AuditEvent.objects.create(
        actor=actor.user if actor else None,
        organisation=actor.organisation if actor else None,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        at=now or timezone.now(),
        data=data or {},
    )
