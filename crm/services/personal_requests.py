"""Requests from a person (本人): disclosure (開示請求) and erase (利用停止・消去).

APPI art. 33 and 35 (DESIGN.md "Personal data over time (APPI)").

- `contact_disclosure_request`: an org admin who sees the contact asks for
  the disclosure package; it is an export of kind `disclosure` built by
  Celery (crm/exports/disclosure.py), audited on the contact.
- `contact_erase`: an org admin of the contact's recording organisation
  stops the use of and erases the person's items everywhere they appear:
  the contact rows of the same person (crm/selectors/personal_data.py), the
  consents they gave end (withdrawn), their name, kana, e-mail and phone in
  the free text of the company's records and in notifications are replaced
  by the marker, and the field-level audit of all of these is blanked.
  Numbers are not touched, so statistics stay as they were. Provision
  records are kept for their legal period (three years) and deleted after
  it by the retention sweep (crm/services/retention.py).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    Case,
    Consent,
    Consultation,
    Contact,
    EventAttendee,
    Export,
    FollowUp,
    Notification,
    Outcome,
    Referral,
    Survey,
)
from crm.permissions import contact_require_disclosable, contact_require_erasable
from crm.rules.personal_data import ERASED_MARKER
from crm.selectors.events import events_hosted_by
from crm.selectors.personal_data import person_contacts, person_needles
from crm.selectors.surveys import surveys_visible_to
from crm.selectors.visibility import (
    cases_visible_to,
    consultations_visible_to,
    contacts_visible_to,
    follow_ups_visible_to,
    outcomes_visible_to,
    referral_records_visible_to,
)
from crm.services.anonymisation import audit_blank, records_anonymise, texts_replace
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.calendar import fiscal_year
from support_network.errors import NotVisible, ValidationFailed

MAX_REASON_LENGTH = 200

# The company's records whose free text may name the person:
# (label, model, lookup to the company, fields).
NAMED_IN = (
    ("crm.Case", Case, "company_id", ("title", "closing_note")),
    (
        "crm.Consultation",
        Consultation,
        "company_id",
        ("summary", "advice", "next_action"),
    ),
    (
        "crm.Referral",
        Referral,
        "case__company_id",
        ("reason", "answer_note", "outcome_note"),
    ),
    ("crm.Outcome", Outcome, "company_id", ("note",)),
    ("crm.FollowUp", FollowUp, "case__company_id", ("note",)),
    # A survey's free comment may name the person who answered it.
    ("crm.Survey", Survey, "company_id", ("comment",)),
)


VISIBLE = {
    "crm.Case": cases_visible_to,
    "crm.Consultation": consultations_visible_to,
    "crm.Referral": referral_records_visible_to,
    "crm.Outcome": outcomes_visible_to,
    "crm.FollowUp": follow_ups_visible_to,
    "crm.Survey": surveys_visible_to,
}


def _visible_contact(actor: Actor, contact: Contact) -> Contact:
    found = contacts_visible_to(actor).filter(pk=contact.pk).first()
    if found is None:
        raise NotVisible(_("見つかりません。"))
    return found


def contact_disclosure_request(
    *, actor: Actor, contact: Contact, now: datetime | None = None
) -> Export:
    """Ask for the disclosure package of contact (202: an export being built)."""
    from crm.exports.requests import export_request

    now = now or timezone.now()
    actor.require_membership()
    contact = _visible_contact(actor, contact)
    contact_require_disclosable(actor, contact)
    with transaction.atomic():
        export = export_request(
            actor=actor,
            kind="disclosure",
            fiscal_year=fiscal_year(now),
            format="zip",
            params={"contact": contact.pk},
            now=now,
        )
        audit_record(
            actor=actor,
            action="contact.disclosure",
            obj=contact,
            data={"export": export.pk},
            now=now,
        )
    return export


def _reason_clean(reason, needles) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationFailed(
            _("利用停止・消去の理由（請求の内容）を入力してください。"), field="reason"
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            _("%(max)s文字以内で入力してください。") % {"max": MAX_REASON_LENGTH},
            field="reason",
        )
    for needle in needles:  # the trail must not keep the erased name
        reason = reason.replace(needle, ERASED_MARKER)
    return reason


def contact_erase(
    *, actor: Actor, contact: Contact, reason: str, now: datetime | None = None
) -> dict:
    """Stop use of and erase the person's items everywhere (APPI art. 35).

    Returns the counts by kind (also audited, never with the values).
    404 for an invisible contact; 403 `not_permitted` unless the actor is an
    org admin of the recording organisation; 400 without a reason.
    """
    now = now or timezone.now()
    actor.require_membership()
    contact = _visible_contact(actor, contact)
    contact_require_erasable(actor, contact)
    with transaction.atomic():
        contacts = list(person_contacts(actor, contact).select_for_update(of=("self",)))
        ids = [c.pk for c in contacts]
        needles = person_needles(contacts)
        reason = _reason_clean(reason, needles)
        counts: dict[str, int] = {"contacts": len(ids)}
        counts["consents_withdrawn"] = Consent.objects.filter(
            contact_id__in=ids, withdrawn_at__isnull=True
        ).update(withdrawn_at=now, withdrawn_by=actor.user, updated_at=now)
        records_anonymise(
            "crm.Contact", Contact.objects.filter(pk__in=ids), ERASED_MARKER
        )
        Contact.objects.filter(pk__in=ids).update(anonymised_at=now, updated_at=now)
        audit_blank("crm.Contact", ids, ERASED_MARKER)
        # Event registrations that name the person (by name or e-mail).
        emails = {c.email for c in contacts if c.email}
        registrations = EventAttendee.objects.filter(
            Q(contact_name__in=needles) | Q(contact_email__in=emails),
            company_id__in={c.company_id for c in contacts},
        )
        registered = list(registrations.values_list("pk", flat=True))
        records_anonymise(
            "crm.EventAttendee",
            EventAttendee.objects.filter(pk__in=registered),
            ERASED_MARKER,
        )
        # Counted where the actor's organisation hosts the event (it sees them).
        counts["event_attendees"] = EventAttendee.objects.filter(
            pk__in=registered, event__in=events_hosted_by(actor)
        ).count()
        for label, model, lookup, fields in NAMED_IN:
            qs = model.objects.filter(**{lookup: contact.company_id})
            touched = texts_replace(qs, fields, needles, ERASED_MARKER)
            if touched:
                # Counted only where the actor may see the record: what may
                # not be seen is never in a count (DESIGN.md "Who sees what" 5).
                visible = VISIBLE[label](actor).filter(pk__in=touched).count()
                counts[model._meta.model_name + "s"] = visible
                audit_blank(label, touched, ERASED_MARKER)
        notified = texts_replace(
            Notification.objects.filter(_text_q(needles)),
            ("message",),
            needles,
            ERASED_MARKER,
        )
        # The actor's organisation's own notifications only, for the same reason.
        counts["notifications"] = (
            Notification.objects.filter(
                pk__in=notified,
                recipient__memberships__organisation_id=actor.organisation_id,
            )
            .distinct()
            .count()
        )
        # Audit events blanked are not counted: they span other organisations'
        # trails.
        counts = {k: v for k, v in counts.items() if v}
        audit_record(
            actor=actor,
            action="contact.erase",
            obj=contact,
            data={"reason": reason, "counts": counts},
            now=now,
        )
    return counts


def _text_q(needles) -> Q:
    q = Q(pk__in=[])
    for needle in needles:
        q |= Q(message__contains=needle)
    return q
