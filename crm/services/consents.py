"""Consents to third-party provision (APPI art. 27): recording, withdrawal, and
which consent covers a receiver (`consent_covering`, what a referral needs)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import ConsentMethod, ConsentScope
from crm.lock_objects import company_lock_active
from crm.models import Company, Consent, Contact
from crm.permissions import company_require_workable
from crm.selectors.visibility import consents_visible_to, contacts_visible_to
from crm.services.audit import audit_record
from crm.services.steps import StepRefused
from support_network.actors import Actor
from support_network.errors import Conflict, DomainError, NotVisible, ValidationFailed
from support_network.models import Organisation


class ConsentNotRecorded(StepRefused):
    """The consent step of a composition was refused (`error` says why)."""


def consent_record_for_receiver(
    *,
    actor: Actor,
    company: Company,
    receiver: Organisation,
    scope: str,
    obtained_on: date,
    method: str,
    today: date | None = None,
) -> Consent:
    """Record the consent a referral to `receiver` needs, as its first step.

    Network-wide, or (scope "organisations") for the receiver only. Shared by
    `referral_send_with_consent` and programs' `enrolment_refer_with_consent`;
    a refusal raises ConsentNotRecorded, so the caller's form shows it beside
    the consent's fields.
    """
    try:
        return consent_record(
            actor=actor,
            company=company,
            scope=scope,
            obtained_on=obtained_on,
            method=method,
            organisations=(
                [receiver.code] if scope == ConsentScope.ORGANISATIONS else []
            ),
            today=today,
        )
    except DomainError as exc:
        raise ConsentNotRecorded(exc) from exc


@transaction.atomic
def consent_record(
    *,
    actor: Actor,
    company: Company,
    scope: str,
    obtained_on: date,
    method: str,
    organisations: Iterable[str] = (),
    contact: Contact | None = None,
    allows_surveys: bool = False,
    today: date | None = None,
) -> Consent:
    """Record a company's consent, network-wide or for listed organisations."""
    today = today or timezone.localdate()
    actor.require_membership()
    if scope not in ConsentScope.values:
        raise ValidationFailed(_("同意の範囲が正しくありません。"), field="scope")
    if method not in ConsentMethod.values:
        raise ValidationFailed(_("取得方法が正しくありません。"), field="method")
    if obtained_on > today:
        raise ValidationFailed(
            _("取得日に未来の日付は入力できません。"), field="obtained_on"
        )
    codes = list(dict.fromkeys(organisations))
    listed = list(Organisation.objects.filter(code__in=codes, is_active=True))
    if scope == ConsentScope.ORGANISATIONS:
        if not codes:
            raise ValidationFailed(
                _("提供先の組織を1つ以上指定してください。"), field="organisations"
            )
        unknown = sorted(set(codes) - {o.code for o in listed})
        if unknown:
            raise ValidationFailed(
                _("組織コードが正しくありません: %(codes)s")
                % {"codes": ", ".join(unknown)},
                field="organisations",
            )
    elif codes:
        raise ValidationFailed(
            _("ネットワーク全体への同意では組織を指定しません。"), field="organisations"
        )
    company = company_lock_active(company.pk)
    company_require_workable(actor, company)
    if contact is not None and (
        contact.company_id != company.pk
        or not contacts_visible_to(actor).filter(pk=contact.pk).exists()
    ):
        raise ValidationFailed(
            _("担当者がこの企業等のものではありません。"), field="contact"
        )
    consent = Consent.objects.create(
        company=company,
        scope=scope,
        obtained_on=obtained_on,
        method=method,
        contact=contact,
        allows_surveys=allows_surveys,
        recorded_by=actor.user,
        organisation=actor.organisation,
    )
    if listed:
        consent.organisations.set(listed)
    audit_record(actor=actor, action="consent.record", obj=consent)
    return consent


@transaction.atomic
def consent_withdraw(
    *, actor: Actor, consent: Consent, now: datetime | None = None
) -> Consent:
    """Withdraw a consent: hubs stop seeing the cases and no new referral may use it.

    Data already provided under an accepted referral stays with its recipient.
    """
    now = now or timezone.now()
    if not consents_visible_to(actor).filter(pk=consent.pk).exists():
        raise NotVisible(_("見つかりません。"))
    company_require_workable(actor, consent.company)
    updated = Consent.objects.filter(pk=consent.pk, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=actor.user
    )
    if updated != 1:
        raise Conflict(_("この同意は既に撤回されています。"), code="already_withdrawn")
    consent.refresh_from_db()
    audit_record(
        actor=actor,
        action="consent.withdraw",
        obj=consent,
        now=now,
        changes={"withdrawn_at": [None, consent.withdrawn_at.isoformat()]},
    )
    return consent


def consent_covering(
    *, company_id: int, organisation: Organisation, lock: bool = False
) -> Consent | None:
    """Return the company's active consent covering organisation (APPI art. 27).

    A consent listing the organisation is preferred to a network-wide one
    (it is the more specific). With lock=True the consents are locked
    (FOR NO KEY UPDATE), so a withdrawal waits until the referral that
    uses the consent has committed, and one that committed first is seen.
    """
    candidate_ids = list(
        Consent.objects.filter(company_id=company_id, withdrawn_at__isnull=True)
        .filter(
            Q(scope=ConsentScope.NETWORK)
            | Q(scope=ConsentScope.ORGANISATIONS, organisations=organisation)
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    if not candidate_ids:
        return None
    qs = Consent.objects.filter(pk__in=candidate_ids, withdrawn_at__isnull=True)
    if lock:
        qs = qs.select_for_update(no_key=True)
    consents = list(qs.order_by("-obtained_on", "-pk"))
    consents.sort(key=lambda c: c.scope != ConsentScope.ORGANISATIONS)
    return consents[0] if consents else None
