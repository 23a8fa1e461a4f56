"""Reads about one person (本人) and the 個人情報ファイル簿 draft (APPI).

`person_contacts` finds the rows that are the same person as a contact (same
company, and the same name or e-mail) among those the actor may see;
`person_disclosure` gathers every personal item held about them that the
actor may see — the contact rows, the consents they gave, the provision
records (第三者提供記録, APPI art. 29) where the actor's organisation
provided or received their data, and the passages of the records that name
them — for the disclosure package (APPI art. 33). Nothing of other people:
a record is included only for the fields that name the person.

`personal_data_file_book` turns crm/rules/personal_data.py and the models'
metadata into the rows of the 個人情報ファイル簿 draft.
"""

from __future__ import annotations

import re
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from crm.models import Consent, Contact, ProvisionRecord
from crm.rules.personal_data import ANONYMISED_MARKER, ERASED_MARKER, PERSONAL_ITEMS
from crm.selectors.visibility import (
    consultations_visible_to,
    contacts_visible_to,
    follow_ups_visible_to,
    outcomes_visible_to,
    referral_records_visible_to,
)
from support_network.actors import Actor

# A replaced value names nobody: never match people or text by it.
MARKERS = frozenset({ANONYMISED_MARKER, ERASED_MARKER})
_SPACES = re.compile(r"[\s\u3000]+")

# Records whose free text may name a person: (kind label, selector, fields).
NAMED_IN = (
    ("相談記録", consultations_visible_to, ("summary", "advice", "next_action")),
    ("紹介", referral_records_visible_to, ("reason", "answer_note", "outcome_note")),
    ("成果", outcomes_visible_to, ("note",)),
    ("フォローアップ", follow_ups_visible_to, ("note",)),
)


def name_key(name: str) -> str:
    """Return a name without spaces (佐藤 花子 and 佐藤花子 are one person)."""
    return _SPACES.sub("", name or "")


def person_contacts(actor: Actor, contact: Contact) -> QuerySet[Contact]:
    """Return the visible contact rows of the same person as contact.

    The same company and the same name (spaces ignored) or the same e-mail.
    """
    same = Q(pk=contact.pk)
    if contact.email:
        same |= Q(email__iexact=contact.email)
    candidates = contacts_visible_to(actor).filter(company_id=contact.company_id)
    key = "" if contact.name in MARKERS else name_key(contact.name)
    ids = [contact.pk] + [
        c.pk
        for c in candidates.exclude(pk=contact.pk)
        if (key and name_key(c.name) == key)
        or (contact.email and c.email.lower() == contact.email.lower())
    ]
    return candidates.filter(pk__in=ids).order_by("pk")


def person_needles(contacts) -> list[str]:
    """Return the strings that identify the person in free text."""
    needles: set[str] = set()
    for c in contacts:
        for value in (c.name, name_key(c.name), c.name_kana, c.email, c.phone):
            if value and len(value) >= 2 and value not in MARKERS:
                needles.add(value)
    return sorted(needles, key=len, reverse=True)


def _text_q(fields, needles) -> Q:
    q = Q(pk__in=[])
    for field in fields:
        for needle in needles:
            q |= Q(**{f"{field}__contains": needle})
    return q


def person_disclosure(actor: Actor, contact: Contact) -> dict[str, list[dict]]:
    """Return the person's items by section (JSON-ready values)."""
    contacts = list(person_contacts(actor, contact))
    contact_ids = [c.pk for c in contacts]
    needles = person_needles(contacts)
    sections: dict[str, list[dict]] = {}
    sections["contacts"] = [
        {
            "id": c.pk,
            "company": c.company.name,
            "organisation": c.organisation.name,
            "name": c.name,
            "name_kana": c.name_kana,
            "title": c.title,
            "email": c.email,
            "phone": c.phone,
            "created_at": c.created_at.isoformat(),
            "updated_at": c.updated_at.isoformat(),
            "anonymised_at": c.anonymised_at.isoformat() if c.anonymised_at else "",
        }
        for c in contacts
    ]
    consents = (
        Consent.objects.filter(contact_id__in=contact_ids)
        .select_related("company", "organisation")
        .prefetch_related("organisations")
        .order_by("pk")
    )
    sections["consents"] = [
        {
            "id": c.pk,
            "contact": c.contact_id,
            "company": c.company.name,
            "scope": c.scope,
            "organisations": ",".join(o.code for o in c.organisations.all()),
            "obtained_on": c.obtained_on.isoformat(),
            "method": c.method,
            "recorded_by_organisation": c.organisation.name,
            "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else "",
        }
        for c in consents
    ]
    records = ProvisionRecord.objects.filter(contacts__in=contact_ids).distinct()
    if not actor.is_superuser:
        records = records.filter(
            Q(provider_id=actor.organisation_id) | Q(recipient_id=actor.organisation_id)
        )
    records = records.select_related("provider", "recipient", "company").order_by("pk")
    sections["provision_records"] = [
        {
            "id": r.pk,
            "direction": (
                "provided" if r.provider_id == actor.organisation_id else "received"
            ),
            "provided_on": r.provided_on.isoformat(),
            "provider": r.provider.name,
            "recipient": r.recipient.name,
            "company": r.company.name,
            "items_shared": ",".join(r.items_shared or []),
            "consent": r.consent_id,
            "referral": r.referral_id,
        }
        for r in records
    ]
    mentions: list[dict] = []
    if needles:
        for label, selector, fields in NAMED_IN:
            qs = (
                selector(actor)
                .filter(_text_q(fields, needles))
                .filter(
                    **(
                        {"case__company_id": contact.company_id}
                        if label in ("紹介", "フォローアップ")
                        else {"company_id": contact.company_id}
                    )
                )
                .order_by("pk")
            )
            for row in qs:
                for field in fields:
                    text = getattr(row, field) or ""
                    if any(n in text for n in needles):
                        mentions.append(
                            {
                                "record": label,
                                "id": row.pk,
                                "field": field,
                                "text": text,
                            }
                        )
    sections["mentions"] = mentions
    return sections


# --- 個人情報ファイル簿 -------------------------------------------------------------


def personal_data_file_book() -> list[dict[str, Any]]:
    """Return the rows of the 個人情報ファイル簿 draft, one per personal field."""
    rows = []
    for item in PERSONAL_ITEMS:
        model = apps.get_model(item.model)
        field = model._meta.get_field(item.field)
        rows.append(
            {
                "model": item.model,
                "model_label": str(model._meta.verbose_name),
                "field": item.field,
                "field_label": str(field.verbose_name),
                "purpose": item.purpose,
                "source": item.source,
                "recipients": item.recipients,
                "retention": item.retention,
            }
        )
    return rows
