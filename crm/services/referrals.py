"""Sending a referral (紹介): its checks, its provision record, and who is told.

Sending needs the company's active consent covering the receiver (APPI
art. 27, `crm.services.consents.consent_covering`) and writes the provision
record in the same transaction (APPI art. 29). `referral_send_with_consent`
records the consent and sends in one transaction, the composition the web
refer page uses when the consent is missing, so the API can do the same.
What happens after sending (accept, decline, complete, cancel, assign,
expire) is in crm/services/referral_transitions.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import CaseStatus, ReferralStatus, Topic
from crm.lock_objects import company_lock_active
from crm.models import (
    Case,
    Contact,
    ProvisionRecord,
    Referral,
    ReferralTopic,
)
from crm.permissions import case_require_writable
from crm.services.audit import audit_record
from crm.services.consents import (
    consent_covering,
    consent_record_for_receiver,
)
from crm.services.consultations import topics_validate
from crm.services.notifications import notify
from crm.statistics.facts import yorozu_link_marks_refresh
from support_network.actors import Actor
from support_network.calendar import add_business_days, date_text, local_date
from support_network.choices import Role
from support_network.errors import Conflict, ValidationFailed
from support_network.models import Organisation
from support_network.selectors import active_members

# The receiver answers within 3 business days (DESIGN.md "Rules").
RESPOND_WITHIN_BUSINESS_DAYS = 3


# Who hears of a new referral: the people who triage an inbox. Managers
# follow statistics, not single referrals, and experts only what they are
# assigned; when an organisation has none of these roles, every active
# member is told, so a referral never lands in an unread inbox.
RECEIVER_NOTIFIED_ROLES = (Role.COORDINATOR, Role.WINDOW_STAFF, Role.ORG_ADMIN)

# What a provision shares (APPI art. 29 "items"), as stable slugs; labels
# for screens and the CSV export are in PROVIDED_ITEM_LABELS.
PROVIDED_ITEM_LABELS = {
    "company": gettext_lazy("企業等の基本情報（名称・所在地・業種・規模等）"),
    "case": gettext_lazy("案件の内容（件名・相談記録・成果）"),
    "referral": gettext_lazy("紹介理由・相談分野"),
    "contacts": gettext_lazy("担当者の氏名・連絡先"),
}

MAX_REASON_LENGTH = 5000



def _topic_labels(topics: Iterable[str]) -> str:
    return "・".join(str(Topic(t).label) for t in topics)


def _members(organisation_id: int, roles: Iterable[str] | None = None) -> list:
    """Return the active users of an organisation (with one of roles, if given)."""
    qs = active_members([organisation_id], roles).select_related("user")
    return [m.user for m in qs.order_by("user_id")]


def referral_receivers_to_notify(organisation: Organisation) -> list:
    """Return who is told of a referral to organisation (RECEIVER_NOTIFIED_ROLES)."""
    return _members(organisation.pk, RECEIVER_NOTIFIED_ROLES) or _members(
        organisation.pk
    )


@transaction.atomic
def referral_send(
    *,
    actor: Actor,
    case: Case,
    to_organisation: Organisation,
    reason: str,
    topics: Iterable[str],
    contacts: Iterable[Contact] = (),
    now: datetime | None = None,
) -> Referral:
    """Refer a case to another organisation and record the provision.

    Any member who can see the case may send (window staff refer every
    day). `contacts` are the company's contacts the sender points the
    receiver to; the provision record lists every contact of the company,
    because the receiver can see all of them through the case.
    """
    actor.require_membership()
    now = now or timezone.now()
    today = local_date(now)
    case_require_writable(actor, case)
    reason = (reason or "").strip()
    topics = list(dict.fromkeys(topics))
    contacts = list(contacts)
    if not to_organisation.is_active:
        raise ValidationFailed(
            _("紹介先の組織は現在受付を停止しています。"), field="to_organisation"
        )
    if to_organisation.pk == actor.organisation_id:
        raise ValidationFailed(
            _("自分の組織には紹介できません。"), field="to_organisation"
        )
    if not reason:
        raise ValidationFailed(_("紹介理由を入力してください。"), field="reason")
    if len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            _("紹介理由は%(max)s文字以内で入力してください。")
            % {"max": MAX_REASON_LENGTH},
            field="reason",
        )
    topics_validate(topics)

    # Lock order company → case → consent, as the merge service locks the
    # company first; the case lock makes concurrent sends of one case queue.
    company = company_lock_active(case.company_id)
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if case.organisation_id == to_organisation.pk:
        raise ValidationFailed(
            _("案件を担当している組織には紹介できません。"), field="to_organisation"
        )
    if case.status != CaseStatus.OPEN:
        raise ValidationFailed(_("完了した案件は紹介できません。"), field="case")
    if any(c.company_id != company.pk for c in contacts):
        raise ValidationFailed(
            _("担当者がこの案件の企業等のものではありません。"), field="contacts"
        )
    open_duplicate = Referral.objects.filter(
        case=case,
        to_organisation=to_organisation,
        status__in=(ReferralStatus.SENT, ReferralStatus.ACCEPTED),
    ).first()
    if open_duplicate is not None:
        raise Conflict(
            _("この案件は既に%(organisation)sへ紹介中です。")
            % {"organisation": to_organisation.name},
            code="already_referred",
            referral=open_duplicate.pk,
        )
    consent = consent_covering(
        company_id=company.pk, organisation=to_organisation, lock=True
    )
    if consent is None:
        # APPI art. 27: no provision to a third party without consent.
        raise Conflict(
            _(
                "%(company)s の第三者提供の同意（%(organisation)s を含むもの）が"
                "ありません。同意を記録してから紹介してください。"
            )
            % {"company": company.name, "organisation": to_organisation.name},
            code="consent_required",
            company=company.pk,
            to_organisation=to_organisation.code,
        )

    referral = Referral.objects.create(
        case=case,
        from_organisation=actor.organisation,
        to_organisation=to_organisation,
        sent_by=actor.user,
        reason=reason,
        status=ReferralStatus.SENT,
        consent=consent,
        sent_at=now,
        respond_by=add_business_days(today, RESPOND_WITHIN_BUSINESS_DAYS),
    )
    ReferralTopic.objects.bulk_create(
        ReferralTopic(referral=referral, topic=t) for t in topics
    )
    # A referral between an INPIT 窓口 and a よろず拠点 makes the case's
    # consultations よろず連携 (statistics facts).
    yorozu_link_marks_refresh(case_ids=[case.pk])
    shared_contacts = list(Contact.objects.filter(company=company).order_by("pk"))
    items = ["company", "case", "referral"]
    if shared_contacts:
        items.append("contacts")
    record = ProvisionRecord.objects.create(
        referral=referral,
        provider=actor.organisation,
        recipient=to_organisation,
        company=company,
        provided_on=today,
        items_shared=items,
        consent=consent,
    )
    if shared_contacts:
        record.contacts.set(shared_contacts)
    audit_record(
        actor=actor,
        action="referral.send",
        obj=referral,
        now=now,
        data={
            "case": case.pk,
            "to_organisation": to_organisation.code,
            "consent": consent.pk,
            "topics": topics,
            "contacts_pointed_out": [c.pk for c in contacts],
        },
    )
    notify(
        recipients=referral_receivers_to_notify(to_organisation),
        kind="referral.sent",
        message=_(
            "%(sender)s から紹介が届きました: %(company)s（%(topics)s）。"
            "回答期限は %(respond_by)s です。"
        )
        % {
            "sender": actor.organisation.name,
            "company": company.name,
            "topics": _topic_labels(topics),
            "respond_by": date_text(referral.respond_by),
        },
        obj=referral,
        dedupe_key=f"referral:{referral.pk}:sent",
        now=now,
    )
    return referral


@transaction.atomic
def referral_send_with_consent(
    *,
    actor: Actor,
    case: Case,
    to_organisation: Organisation,
    reason: str,
    topics: Iterable[str],
    consent_scope: str,
    consent_obtained_on: date,
    consent_method: str,
    contacts: Iterable[Contact] = (),
    now: datetime | None = None,
) -> Referral:
    """Record the company's consent, then send the referral, in one transaction.

    The consent covers the whole network, or (scope "organisations") the
    receiver only. A refused consent raises ConsentNotRecorded; a refused
    send raises as `referral_send` does, and then no consent is left behind
    either: nothing is half-written.
    """
    consent_record_for_receiver(
        actor=actor,
        company=case.company,
        receiver=to_organisation,
        scope=consent_scope,
        obtained_on=consent_obtained_on,
        method=consent_method,
        today=local_date(now) if now else None,
    )
    return referral_send(
        actor=actor,
        case=case,
        to_organisation=to_organisation,
        reason=reason,
        topics=topics,
        contacts=contacts,
        now=now,
    )
