"""Bringing notifications recorded before issue 26 under its two rules.

`manage.py notifications_redact` (once after upgrading, idempotent) deletes
the rows whose recipient may not open their object and gives the rows about
a confidential case the neutral text (crm/services/notification_audiences.py
holds both rules).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from crm.models import Notification
from crm.services.notification_audiences import (
    AUDIENCES,
    confidential_message,
    recipients_who_may_see,
)

# --- cleaning up what was recorded before these rules ----------------------------


def _models_by_name() -> dict[str, Any]:
    from django.apps import apps

    return {m._meta.model_name: m for m in apps.get_models()}


def notifications_redact(*, batch_size: int = 1000) -> dict[str, int]:
    """Bring notifications recorded before issue 26 under its two rules.

    `manage.py notifications_redact`, once after upgrading (idempotent): a
    row whose recipient may not open its object is deleted (it does not
    exist for them, rule 5), and a row about a confidential case gets the
    neutral text. Rows of types without an audience, or whose object is
    gone, are left as they are. Returns counts: checked, deleted, redacted.
    """
    models = _models_by_name()
    related = {
        "followup": ("case", "assignee"),
        "referral": ("case", "from_organisation", "to_organisation"),
        "enrolment": ("program",),
    }
    counts = {"checked": 0, "deleted": 0, "redacted": 0}
    after = 0
    while True:
        batch = list(
            Notification.objects.filter(pk__gt=after, object_type__in=list(AUDIENCES))
            .exclude(object_id="")
            .select_related("recipient")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return counts
        after = batch[-1].pk
        objects: dict[str, dict[str, Any]] = {}
        for otype in {n.object_type for n in batch}:
            model = models.get(otype)
            if model is None:
                continue
            ids = {int(n.object_id) for n in batch if n.object_type == otype}
            qs = model.objects.filter(pk__in=ids)
            if otype in related:
                qs = qs.select_related(*related[otype])
            objects[otype] = {str(o.pk): o for o in qs}
        rows = [
            (n, objects.get(n.object_type, {}).get(n.object_id))
            for n in batch
            if n.object_id.isdigit()
        ]
        rows = [(n, obj) for n, obj in rows if obj is not None]
        counts["checked"] += len(rows)
        seen = recipients_who_may_see((obj, [n.recipient]) for n, obj in rows)
        with transaction.atomic():
            for (n, obj), kept in zip(rows, seen, strict=True):
                if not kept:
                    Notification.objects.filter(pk=n.pk).delete()
                    counts["deleted"] += 1
                    continue
                case = AUDIENCES[n.object_type].case_of(obj)
                if case is not None and case.is_confidential:
                    text = confidential_message(n.kind, obj, case)
                    if text != n.message:
                        Notification.objects.filter(pk=n.pk).update(message=text)
                        counts["redacted"] += 1
