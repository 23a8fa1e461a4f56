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
    changes: dict[str, list] | None = None,
) -> AuditEvent:
    """Write an audit event (DESIGN.md "Who sees what" rule 7).

    The event belongs to the actor's organisation (whose org admins read
    it), or to `organisation` when given (a failed login has no actor but
    concerns the account's organisation). A change event carries
    `changes`: `{field: [old, new]}` (DESIGN.md "Who may change what" rule 6).
    """
    if organisation is None and actor is not None:
        organisation = actor.organisation
    if changes:
        data = {**(data or {}), "changes": _jsonable(changes)}
    return AuditEvent.objects.create(
        actor=actor.user if actor else None,
        organisation=organisation,
        action=action,
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        at=now or timezone.now(),
        data=data or {},
    )


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def _jsonable(changes: dict[str, list]) -> dict[str, list]:
    """Return changes with model instances as ids and dates as ISO strings."""
    return {field: [_plain(old), _plain(new)] for field, (old, new) in changes.items()}


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """Return `{field: [old, new]}` for the fields whose value differs."""
    return {
        field: [before.get(field), value]
        for field, value in after.items()
        if _plain(before.get(field)) != _plain(value)
    }


def audit_record_many(
    *, actor: Actor, action: str, objs: list[Any], now=None
) -> list[AuditEvent]:
    """Write one audit event per object, as `audit_record` would, in one INSERT.

    For bulk writes (an import's batch): the same rows as calling
    `audit_record` once per object.
    """
    at = now or timezone.now()
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor.user,
            organisation=actor.organisation,
            action=action,
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            at=at,
            data={},
        )
        for obj in objs
    )
