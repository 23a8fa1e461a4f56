"""Merging a duplicate company into the one that stays (名寄せ).

Duplicates slip in when a window registers a company before its 法人番号 is
known. A merge moves everything that points at the duplicate (the source)
to the surviving company (the target), completes the target's empty fields
from the source, and keeps the source row as a tombstone (`merged_into`),
so old links and audit events still resolve and the visibility selectors
hide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Company, EventAttendee
from crm.permissions import company_require_mergeable
from crm.services.audit import audit_record
from crm.services.companies import company_derive_keys
from crm.services.consultations import company_first_consultation_refresh
from support_network.actors import Actor
from support_network.errors import Conflict, ValidationFailed

# Every relation to Company, as "<app_label>.<model_name>.<field>", that a
# merge re-points from the source to the target with one UPDATE. Re-pointing
# is safe only while the model has no unique constraint over that field.
# tests/crm/test_company_merge.py fails when a relation to Company appears
# that is not listed here, or when a listed model gains such a constraint,
# so whoever adds one decides here how a merge treats it.
REASSIGNED_RELATIONS = (
    "crm.case.company",
    "crm.consultation.company",  # denormalised from the case; moved with it
    # Derived statistics rows: not moved but rewritten from the moved
    # consultations (company_first_consultation_refresh below).
    "crm.consultationfact.company",
    "crm.contact.company",
    "crm.consent.company",
    "crm.outcome.company",
    "crm.provisionrecord.company",  # APPI art. 29 record of the same person
    "programs.enrolment.company",
    # Unique per (event, company): moved row by row (_event_attendees_move).
    "crm.eventattendee.company",
    # A survey is the company's answer: it follows the company.
    "crm.survey.company",
    # Companies merged into the source earlier now point at the target, so
    # a tombstone never leads to another tombstone.
    "crm.company.merged_into",
)

DERIVED_RELATIONS = frozenset({"crm.consultationfact.company"})


def _event_attendees_move(source: Company, target: Company) -> int:
    """Move the source's event registrations; fold one the target also holds.

    Both registered for the same event: the target's registration stays and
    takes the source's attendance (either attended means the company did).
    """
    moved = 0
    rows = EventAttendee.objects.select_for_update().filter(company=source)
    for row in rows.order_by("pk"):
        kept = (
            EventAttendee.objects.select_for_update()
            .filter(event_id=row.event_id, company=target)
            .first()
        )
        if kept is None:
            row.company = target
            row.save(update_fields=["company", "updated_at"])
        else:
            if row.is_attended and not kept.is_attended:
                kept.is_attended = True
                kept.attended_at = row.attended_at
                kept.save(update_fields=["is_attended", "attended_at", "updated_at"])
            row.delete()
        moved += 1
    return moved


# Relations under a unique constraint with the company: moved by their own
# rule instead of one UPDATE.
RESOLVED_RELATIONS = {"crm.eventattendee.company": _event_attendees_move}

# Fields of the target that a merge fills from the source when they are
# empty. Name, kind and prefecture are required, so the target's stay.
# controlled_by_large_company is a boolean with no "unknown" value, so the
# target's answer stands.
FILLED_FIELDS = (
    "corporate_number",
    "name_kana",
    "city",
    "industry",
    "capital_yen",
    "employees",
    "founded_on",
    "registered_by",
)


@dataclass(frozen=True)
class CompanyRelation:
    """A foreign key of some model that points at Company."""

    key: str
    model: type[models.Model]
    field: models.Field


def company_relations() -> list[CompanyRelation]:
    """Return every relation to Company in the project, hidden ones included.

    `_meta.related_objects` leaves out relations with `related_name="+"`
    (ProvisionRecord.company), so the full list of fields is read instead.
    """
    relations = []
    for rel in Company._meta.get_fields(include_hidden=True):
        if not (rel.is_relation and rel.auto_created and not rel.concrete):
            continue
        model = rel.related_model
        key = f"{model._meta.app_label}.{model._meta.model_name}.{rel.field.name}"
        relations.append(CompanyRelation(key=key, model=model, field=rel.field))
    return sorted(relations, key=lambda r: r.key)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


@transaction.atomic
def company_merge(
    *,
    actor: Actor,
    source: Company,
    target: Company,
    now: datetime | None = None,
) -> Company:
    """Merge source (the duplicate) into target and return the target.

    Refuse with 403 for actors who may not merge, 400 for a merge into
    itself, and 409 when either company is already merged or their
    法人番号 differ.
    """
    now = now or timezone.now()
    company_require_mergeable(actor, source, target)
    if source.pk == target.pk:
        raise ValidationFailed(
            _("同じ企業等どうしは統合できません。統合先に別の企業等を選んでください。"),
            code="merge_into_self",
            field="into",
        )
    relations = company_relations()
    unknown = [r.key for r in relations if r.key not in REASSIGNED_RELATIONS]
    if unknown:
        # A new relation must be reviewed (unique constraints, history)
        # before merges may touch it; leaving rows behind would be worse.
        raise ImproperlyConfigured(
            f"company_merge does not know how to move {unknown}; "
            "add them to crm.services.merge.REASSIGNED_RELATIONS"
        )

    # Lock both rows in id order, so two merges of the same pair cannot
    # deadlock and a concurrent merge sees the first one's result.
    locked = {
        c.pk: c
        for c in Company.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None:
        raise Conflict(
            _("統合元の企業等は既に別の企業等に統合されています。"),
            code="already_merged",
            merged_into=source.merged_into_id,
        )
    if target.merged_into_id is not None:
        raise Conflict(
            _(
                "統合先の企業等は既に別の企業等に統合されています。統合後の企業等を選んでください。"
            ),
            code="target_already_merged",
            merged_into=target.merged_into_id,
        )
    if (
        source.corporate_number
        and target.corporate_number
        and source.corporate_number != target.corporate_number
    ):
        raise Conflict(
            _(
                "法人番号が異なる企業等は統合できません（%(source)s と %(target)s）。"
                "別の法人です。"
            )
            % {"source": source.corporate_number, "target": target.corporate_number},
            code="different_corporate_numbers",
        )

    moved: dict[str, int] = {}
    for relation in relations:
        if relation.key in DERIVED_RELATIONS:
            continue
        if relation.key in RESOLVED_RELATIONS:
            moved[relation.key] = RESOLVED_RELATIONS[relation.key](source, target)
            continue
        name = relation.field.name
        moved[relation.key] = relation.model._base_manager.filter(
            **{name: source}
        ).update(**{name: target})

    # Of the two first consultations, only the earlier stays the first.
    company_first_consultation_refresh(company_ids=[target.pk])

    filled = [
        name
        for name in FILLED_FIELDS
        if _is_empty(getattr(target, name)) and not _is_empty(getattr(source, name))
    ]
    for name in filled:
        setattr(target, name, getattr(source, name))

    # The source gives up its 法人番号 before the target takes it: the
    # partial unique constraint would refuse two rows with the same number.
    source.corporate_number = None
    source.merged_into = target
    source.save(update_fields=["corporate_number", "merged_into", "updated_at"])
    company_derive_keys(target)
    target.save()

    audit_record(
        actor=actor,
        action="company.merge",
        obj=target,
        now=now,
        data={
            "source": source.pk,
            "target": target.pk,
            "source_name": source.name,
            "moved": moved,
            "filled": filled,
        },
    )
    return target
