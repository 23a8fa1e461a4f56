"""Contacts (担当者): the people at a client company a window deals with.

A contact belongs to the organisation that recorded it; others see it only
when they work on one of the company's cases (crm.selectors), and only the
recording organisation may change it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from crm.lock_objects import company_lock_active
from crm.models import Company, Consent, Contact, ProvisionRecord
from crm.permissions import company_require_workable, contact_require_changeable
from crm.selectors.visibility import contacts_visible_to
from crm.services.audit import audit_record, changes_between
from support_network.actors import Actor
from support_network.errors import Conflict, NotVisible, ValidationFailed

# Fields a caller may set on a contact (POST companies/{id}/contacts/,
# PATCH contacts/{id}/).
CONTACT_FIELDS = ("name", "name_kana", "title", "email", "phone")

# Dash look-alikes typed between digit groups (０３ー１２３４ー５６７８).
_PHONE_DASHES = re.compile("[\u2010-\u2015\u2212\u30fc\ufe58\ufe63\uff0d\uff70]")
# Digits in hyphen-separated groups; a leading "+" for numbers abroad.
_PHONE = re.compile(r"^\+?[0-9]+(?:-[0-9]+)*$")


def _clean_text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _clean_phone(value: Any) -> str:
    phone = _PHONE_DASHES.sub("-", _clean_text(value))
    if phone and not _PHONE.match(phone):
        raise ValidationFailed(
            _("電話番号は数字とハイフンで入力してください（例: 03-1234-5678）。"),
            field="phone",
        )
    return phone


def _clean_email(value: Any) -> str:
    email = _clean_text(value)
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise ValidationFailed(
                _(
                    "メールアドレスの形式が正しくありません（例: tanaka@example.co.jp）。"
                ),
                field="email",
            ) from exc
    return email


def contact_validate(contact: Contact) -> None:
    """Normalise and check a contact's fields, raising a field error in Japanese."""
    # Names keep their own width (full-width kanji and kana stay as typed);
    # only surrounding spaces go.
    contact.name = str(contact.name or "").strip()
    contact.name_kana = str(contact.name_kana or "").strip()
    contact.title = str(contact.title or "").strip()
    if not contact.name:
        raise ValidationFailed(_("氏名を入力してください。"), field="name")
    contact.email = _clean_email(contact.email)
    contact.phone = _clean_phone(contact.phone)


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown contact fields: {sorted(unknown)}")


@transaction.atomic
def contact_create(*, actor: Actor, company: Company, **fields: Any) -> Contact:
    """Record a contact of company for the actor's organisation."""
    actor.require_membership()
    _check_fields(fields)
    company = company_lock_active(company.pk)
    company_require_workable(actor, company)
    contact = Contact(company=company, organisation=actor.organisation, **fields)
    contact_validate(contact)
    contact.save()
    audit_record(actor=actor, action="contact.create", obj=contact)
    return contact


@transaction.atomic
def contact_update(*, actor: Actor, contact: Contact, **fields: Any) -> Contact:
    """Change a contact; only its recording organisation (or a superuser) may."""
    _check_fields(fields)
    if not contacts_visible_to(actor).filter(pk=contact.pk).exists():
        raise NotVisible(_("見つかりません。"))
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    contact_require_changeable(actor, contact)
    before = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    for name, value in fields.items():
        setattr(contact, name, value)
    contact_validate(contact)
    contact.save()
    audit_record(
        actor=actor,
        action="contact.update",
        obj=contact,
        data={"fields": sorted(fields)},
        changes=changes_between(
            before, {name: getattr(contact, name) for name in CONTACT_FIELDS}
        ),
    )
    return contact


def _contact_in_use() -> Conflict:
    return Conflict(
        _(
            "この担当者は同意または第三者提供記録に記録されているため削除できません"
            "（記録を残すため）。氏名などの誤りは編集で直してください。"
        ),
        code="contact_in_use",
    )


@transaction.atomic
def contact_delete(*, actor: Actor, contact: Contact) -> None:
    """Remove a contact; only its recording organisation (or a superuser) may.

    A contact named by a consent (who consented) or by a provision record
    (APPI art. 29: whose data was provided) stays, so those records keep
    saying who it was: 409 `contact_in_use`. The audit event keeps the old
    values of every field.
    """
    if not contacts_visible_to(actor).filter(pk=contact.pk).exists():
        raise NotVisible(_("見つかりません。"))
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    contact_require_changeable(
        actor, contact, _("この担当者を削除できるのは、登録した組織だけです。")
    )
    if (
        Consent.objects.filter(contact=contact).exists()
        or ProvisionRecord.contacts.through.objects.filter(contact=contact).exists()
    ):
        raise _contact_in_use()
    before = {name: getattr(contact, name) for name in CONTACT_FIELDS}
    audit_record(
        actor=actor,
        action="contact.delete",
        obj=contact,
        data={"company": contact.company_id, "organisation": contact.organisation_id},
        changes={name: [value, None] for name, value in before.items()},
    )
    try:
        with transaction.atomic():
            contact.delete()
    except (ProtectedError, RestrictedError) as exc:
        # A record added elsewhere that protects its contact.
        raise _contact_in_use() from exc
