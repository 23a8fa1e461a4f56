"""Replacing personal items by the marker (APPI: retention and erase).

The two callers — the retention sweep (crm/services/retention.py) and an
erase request (crm/services/personal_requests.py) — rewrite exactly the
fields declared in crm/rules/personal_data.py, with queryset updates that
touch no number: the statistics facts (ConsultationFact) stay as they are.
The field-level audit (`changes: {field: [old, new]}`, notes in `data`) of
the rewritten records is blanked as well, so an erased value survives
nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db.models import Q, QuerySet

from crm.models import AuditEvent, Notification
from crm.rules.personal_data import BLANK, personal_fields

# Free-text keys of audit `data` (case close/reopen notes, referral answers).
AUDIT_TEXT_KEYS = ("note", "reason", "outcome_note", "summary")


def _model(label: str):
    return apps.get_model(label)


def records_anonymise(label: str, qs: QuerySet, marker: str) -> int:
    """Replace the personal fields of the rows of qs (a `label` model) by marker.

    Non-empty texts become the marker; e-mail, phone and kana are emptied.
    Returns the number of rows touched (0 when all were already replaced).
    """
    touched: set[int] = set()
    for item in personal_fields(label):
        field = item.field
        if item.how == BLANK:
            rows = qs.exclude(**{field: ""})
            value = ""
        else:
            rows = qs.exclude(**{field: ""}).exclude(**{field: marker})
            value = marker
        ids = list(rows.values_list("pk", flat=True))
        if ids:
            _model(label).objects.filter(pk__in=ids).update(**{field: value})
            touched.update(ids)
    return len(touched)


def _blank(value, marker: str):
    if value in (None, "", [], {}):
        return value
    return marker


def audit_blank(label: str, ids: Iterable[int], marker: str) -> int:
    """Blank the recorded values of personal fields in these objects' audit events.

    Returns the number of events rewritten.
    """
    ids = [str(pk) for pk in ids]
    if not ids:
        return 0
    model = _model(label)
    fields = {item.field for item in personal_fields(label)}
    rewritten = 0
    events = AuditEvent.objects.filter(
        object_type=model._meta.model_name, object_id__in=ids
    ).only("pk", "data")
    for event in events.iterator(chunk_size=500):
        data = dict(event.data or {})
        changed = False
        changes = data.get("changes")
        if isinstance(changes, dict):
            new = {}
            for field, pair in changes.items():
                if field in fields and isinstance(pair, list):
                    blanked = [_blank(v, marker) for v in pair]
                    changed = changed or blanked != pair
                    new[field] = blanked
                else:
                    new[field] = pair
            data["changes"] = new
        for key in AUDIT_TEXT_KEYS:
            if key in data and _blank(data[key], marker) != data[key]:
                data[key] = _blank(data[key], marker)
                changed = True
        if changed:
            AuditEvent.objects.filter(pk=event.pk).update(data=data)
            rewritten += 1
    return rewritten


def notifications_blank(objects: dict[str, Iterable[int]], marker: str) -> int:
    """Replace the text of notifications about these objects (model name → ids)."""
    q = Q(pk__in=[])
    for model_name, ids in objects.items():
        ids = [str(pk) for pk in ids]
        if ids:
            q |= Q(object_type=model_name, object_id__in=ids)
    return Notification.objects.filter(q).exclude(message=marker).update(message=marker)


def texts_replace(
    qs: QuerySet, fields: Iterable[str], needles: Iterable[str], marker: str
) -> set[int]:
    """Replace each needle inside these text fields of qs by marker; return the ids."""
    from django.db.models import Value
    from django.db.models.functions import Left, Replace

    needles = [n for n in needles if n and n != marker and len(n) >= 2]
    touched: set[int] = set()
    for field in fields:
        for needle in needles:
            rows = qs.filter(**{f"{field}__contains": needle})  # longest first
            ids = list(rows.values_list("pk", flat=True))
            if ids:
                value = Replace(field, Value(needle), Value(marker))
                max_length = qs.model._meta.get_field(field).max_length
                if max_length:  # a varchar must not overflow
                    value = Left(value, max_length)
                qs.model.objects.filter(pk__in=ids).update(**{field: value})
                touched.update(ids)
    return touched
