"""The referral sources of the reminder sweep: reminder, escalation, expiry.

A referral left unanswered reminds its receivers after
REFERRAL_REMIND_AFTER_BUSINESS_DAYS, is escalated to the receiver's leads
and the region's hub coordinators who may see it after
REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS, and expires (the sender is told)
after REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS, each once. Rows are claimed as
crm/services/reminders.py describes.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from crm.choices import ReferralStatus
from crm.models import Referral
from crm.services.notification_audiences import recipients_who_may_see
from crm.services.referral_transitions import referral_expire
from crm.services.referrals import referral_receivers_to_notify
from crm.services.reminder_batches import (
    Contended,
    SweepResult,
    claim_batches,
    members,
    reminders_record,
    sent_before,
)
from support_network.calendar import date_text
from support_network.choices import NATIONAL_HUB_KINDS, Role
from support_network.errors import Conflict
from support_network.selectors import hub_organisations_for_prefecture

# The logger keeps the name it had before the sweep was split into modules.
logger = logging.getLogger("crm.services.reminders")


# Who in the receiving organisation hears that it has not answered.
REFERRAL_ESCALATE_RECEIVER_ROLES = (Role.COORDINATOR, Role.MANAGER)


def _region_coordinators(referral: Referral) -> list:
    """Return the coordinators of the hubs of the receiver's region.

    National hubs are left out: they cover every prefecture and would get
    every escalation of the country. Whether each may see the referral's
    case is checked by the caller (recipients_who_may_see).
    """
    prefecture = referral.to_organisation.prefecture
    hubs = hub_organisations_for_prefecture(
        prefecture.code if prefecture else None
    ).exclude(kind__in=NATIONAL_HUB_KINDS)
    users = members(hubs.values_list("pk", flat=True), [Role.COORDINATOR])
    return [u for group in users.values() for u in group]


def referral_reminders(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Remind receivers of referrals unanswered for 2 business days."""
    cutoff = sent_before(day, int(rules["REFERRAL_REMIND_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(
        scope, status=ReferralStatus.SENT, reminded_at__isnull=True, sent_at__lt=cutoff
    )

    def process(batch: list[Referral]) -> None:
        updated = due.filter(pk__in=[r.pk for r in batch]).update(
            reminded_at=now, updated_at=now
        )
        if updated != len(batch):
            raise Contended
        # One recipients query per receiving organisation, not per referral.
        receivers: dict[int, list] = {}
        for r in batch:
            if r.to_organisation_id not in receivers:
                receivers[r.to_organisation_id] = referral_receivers_to_notify(
                    r.to_organisation
                )
        items = [
            (
                f"referral:{r.pk}:remind",
                receivers[r.to_organisation_id],
                _("%(sender)s からの紹介に回答してください: %(company)s")
                % {"sender": r.from_organisation.name, "company": r.case.company.name},
                r,
            )
            for r in batch
        ]
        reminders_record(items, kind="referral.reminder", now=now)
        result.counts["referral.reminder"] += len(batch)

    claim_batches(
        due.select_related("from_organisation", "to_organisation", "case__company"),
        batch_size=batch_size,
        process=process,
        label="referral.reminder",
    )


def referral_escalations(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Escalate a referral unanswered after 3 business days.

    Told: the receiving organisation's own coordinators and managers (its
    org admins when it has none), and the coordinators of the receiver's
    regional hubs only when the hub may see the case (DESIGN.md "Who sees
    what" rules 3–5: the company's network-wide consent, never a
    confidential case). Every recipient is checked with the visibility
    selectors (recipients_who_may_see), one query per hub membership and
    batch, not per referral.
    """
    cutoff = sent_before(day, int(rules["REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(
        scope,
        status=ReferralStatus.SENT,
        escalated_at__isnull=True,
        sent_at__lt=cutoff,
    )

    def process(batch: list[Referral]) -> None:
        updated = due.filter(pk__in=[r.pk for r in batch]).update(
            escalated_at=now, updated_at=now
        )
        if updated != len(batch):
            raise Contended
        # One hub lookup per receiving organisation, not per referral.
        coordinators: dict[int, list] = {}
        for r in batch:
            if r.to_organisation_id not in coordinators:
                coordinators[r.to_organisation_id] = _region_coordinators(r)
        receiving = {r.to_organisation_id for r in batch}
        own = members(receiving, REFERRAL_ESCALATE_RECEIVER_ROLES)
        admins = members(receiving, [Role.ORG_ADMIN])
        candidates = [
            (
                r,
                (own.get(r.to_organisation_id) or admins.get(r.to_organisation_id, []))
                + coordinators[r.to_organisation_id],
            )
            for r in batch
        ]
        told = dict(
            zip(
                [r.pk for r in batch],
                recipients_who_may_see(candidates),
                strict=True,
            )
        )
        items = [
            (
                f"referral:{r.pk}:escalate",
                told[r.pk],
                # No company name: a region coordinator may not see the case
                # (no network-wide consent); the referral number is enough
                # to chase the receiver.
                _(
                    "%(receiver)s が %(sender)s からの紹介（No.%(number)s）に"
                    "回答していません（%(sent)s 送付）"
                )
                % {
                    "receiver": r.to_organisation.name,
                    "sender": r.from_organisation.name,
                    "number": r.pk,
                    "sent": date_text(r.sent_at),
                },
                r,
            )
            for r in batch
        ]
        reminders_record(items, kind="referral.escalation", now=now)
        result.counts["referral.escalation"] += len(batch)

    claim_batches(
        due.select_related("from_organisation", "to_organisation__prefecture", "case"),
        batch_size=batch_size,
        process=process,
        label="referral.escalation",
    )


def referral_expiries(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Expire referrals unanswered for 10 business days (the sender is told)."""
    cutoff = sent_before(day, int(rules["REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS"]))
    due = Referral.objects.filter(scope, status=ReferralStatus.SENT, sent_at__lt=cutoff)

    def process(batch: list[Referral]) -> None:
        for r in batch:
            try:
                with transaction.atomic():
                    referral_expire(referral=r, now=now)
            except Conflict:
                continue  # answered meanwhile: nothing to expire
            logger.info("referral.expired referral:%s", r.pk)
            result.counts["referral.expiry"] += 1

    claim_batches(due, batch_size=batch_size, process=process, label="referral.expiry")
