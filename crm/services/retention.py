"""The retention sweep (保存期間): anonymise personal data whose period ended.

DESIGN.md "Personal data over time (APPI)". Each organisation keeps personal
data for `RetentionPolicy.years_after_close` fiscal years after the fiscal
year its case closed in (default 5; support_network.calendar's fiscal
years). `retention_apply` then replaces the personal items of the expired
cases (crm/rules/personal_data.py: consultation, referral, outcome and
follow-up free text, the case's title and closing note) and of the contacts
of companies whose every case has expired, with one fixed marker. A case on
legal hold (法的保全), an open case, or a policy switched off keeps
everything. Numbers are never touched, so statistics and their facts stay
identical.

Provision records (APPI art. 29) are kept for their legal period of three
years (施行規則第21条) and deleted after it once the data they record was
anonymised or erased.

Batched (BATCH_SIZE cases per transaction, locked with SKIP LOCKED so two
sweeps never take the same case), idempotent (an anonymised case or contact
carries `anonymised_at` and is not taken again; a second run changes
nothing and writes no audit event), audited per organisation with the kinds
and counts, never the values.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CaseStatus
from crm.models import (
    Case,
    Consultation,
    Contact,
    EventAttendee,
    FollowUp,
    Outcome,
    ProvisionRecord,
    Referral,
    RetentionPolicy,
    Survey,
)
from crm.permissions import (
    case_require_holdable,
    retention_policy_require_manageable,
)
from crm.rules.personal_data import ANONYMISED_MARKER
from crm.selectors.visibility import cases_visible_to
from crm.services.anonymisation import (
    audit_blank,
    notifications_blank,
    records_anonymise,
)
from crm.services.audit import audit_record, changes_between
from support_network.calendar import fiscal_year, fiscal_year_bounds, local_date
from support_network.errors import NotVisible, ValidationFailed
from support_network.models import Organisation

# Cases anonymised per transaction.
BATCH_SIZE = 200
# APPI art. 29 / 施行規則第21条: provision records are kept three years.
PROVISION_RECORD_YEARS = 3

# The records of a case, anonymised with it: (label, model, FK to the case).
CASE_RECORDS = (
    ("crm.Consultation", Consultation, "case_id"),
    ("crm.Referral", Referral, "case_id"),
    ("crm.Outcome", Outcome, "case_id"),
    ("crm.FollowUp", FollowUp, "case_id"),
)


def retention_cutoff(years: int, now: datetime) -> date:
    """Return the first day whose closed cases are still kept at `now`.

    A case closed in fiscal year F is kept through F + years and anonymised
    from the first day of F + years + 1: so cases closed before the start of
    fiscal year (current − years) have expired.
    """
    start, _end = fiscal_year_bounds(fiscal_year(now) - years)
    return start


def _expired_q(now: datetime, *, organisation: str, before: str) -> Q:
    """Return a Q over rows whose organisation's retention period has ended.

    `organisation` names the owning organisation's id, `before` a date (or a
    fiscal year, when it ends in "fiscal_year") the period counts from.
    """
    by_fiscal_year = before.endswith("fiscal_year")

    def ended(years: int) -> dict:
        if by_fiscal_year:
            return {f"{before}__lt": fiscal_year(now) - years}
        return {f"{before}__lt": retention_cutoff(years, now)}

    q = Q(
        ~Exists(RetentionPolicy.objects.filter(organisation_id=OuterRef(organisation))),
        **ended(RetentionPolicy.DEFAULT_YEARS),
    )
    for organisation_id, years in RetentionPolicy.objects.filter(
        is_active=True
    ).values_list("organisation_id", "years_after_close"):
        q |= Q(**{organisation: organisation_id}, **ended(years))
    return q


def expired_cases(now: datetime):
    """Return the cases the sweep would anonymise at `now` (none on legal hold)."""
    return Case.objects.filter(
        _expired_q(now, organisation="organisation_id", before="closed_on"),
        status=CaseStatus.CLOSED,
        closed_on__isnull=False,
        anonymised_at__isnull=True,
        is_on_legal_hold=False,
    )


def _cases_batch(now: datetime, counts: dict[int, Counter]) -> int:
    """Anonymise one batch of expired cases and their records; return the cases."""
    with transaction.atomic():
        cases = list(
            expired_cases(now)
            .order_by("closed_on", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", "organisation_id")[:BATCH_SIZE]
        )
        if not cases:
            return 0
        ids = [pk for pk, _org in cases]
        objects: dict[str, list[int]] = {"case": ids}
        for _pk, organisation_id in cases:
            counts[organisation_id]["cases"] += 1
        case_org = dict(cases)
        records_anonymise(
            "crm.Case", Case.objects.filter(pk__in=ids), ANONYMISED_MARKER
        )
        counts_audit = audit_blank("crm.Case", ids, ANONYMISED_MARKER)
        for label, model, fk in CASE_RECORDS:
            rows = list(
                model.objects.filter(**{f"{fk}__in": ids}).values_list("pk", fk)
            )
            if not rows:
                continue
            row_ids = [pk for pk, _case in rows]
            records_anonymise(
                label, model.objects.filter(pk__in=row_ids), ANONYMISED_MARKER
            )
            counts_audit += audit_blank(label, row_ids, ANONYMISED_MARKER)
            objects[model._meta.model_name] = row_ids
            kind = model._meta.model_name + "s"
            for _pk, case_id in rows:
                counts[case_org[case_id]][kind] += 1
        notified = notifications_blank(objects, ANONYMISED_MARKER)
        first_org = cases[0][1]
        counts[first_org]["audit_events"] += counts_audit
        counts[first_org]["notifications"] += notified
        Case.objects.filter(pk__in=ids).update(anonymised_at=now)
    return len(cases)


def expired_attendees(now: datetime):
    """Return registrations of events held before the host's period whose
    names or e-mails are still there."""
    return EventAttendee.objects.filter(
        _expired_q(now, organisation="event__organisation_id", before="event__starts_on")
    ).filter(
        (~Q(contact_name="") & ~Q(contact_name=ANONYMISED_MARKER))
        | ~Q(contact_email="")
    )


def expired_survey_comments(now: datetime):
    """Return answered surveys of expired fiscal years that still hold a comment."""
    return (
        Survey.objects.filter(
            _expired_q(now, organisation="organisation_id", before="fiscal_year")
        )
        .exclude(comment="")
        .exclude(comment=ANONYMISED_MARKER)
    )


def _rows_batch(label, rows, organisation_field, kind, counts) -> int:
    with transaction.atomic():
        batch = list(
            rows.order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", organisation_field)[:BATCH_SIZE]
        )
        if not batch:
            return 0
        ids = [pk for pk, _org in batch]
        model = rows.model
        records_anonymise(label, model.objects.filter(pk__in=ids), ANONYMISED_MARKER)
        for _pk, organisation_id in batch:
            counts[organisation_id][kind] += 1
    return len(batch)


def _attendees_batch(now: datetime, counts: dict[int, Counter]) -> int:
    return _rows_batch(
        "crm.EventAttendee",
        expired_attendees(now),
        "event__organisation_id",
        "event_attendees",
        counts,
    )


def _survey_comments_batch(now: datetime, counts: dict[int, Counter]) -> int:
    return _rows_batch(
        "crm.Survey",
        expired_survey_comments(now),
        "organisation_id",
        "survey_comments",
        counts,
    )


def expired_contacts():
    """Return contacts of companies whose every case was anonymised by the sweep."""
    cases = Case.objects.filter(company_id=OuterRef("company_id"))
    return Contact.objects.filter(
        Exists(cases), ~Exists(cases.filter(anonymised_at__isnull=True))
    ).filter(anonymised_at__isnull=True)


def _contacts_batch(now: datetime, counts: dict[int, Counter]) -> int:
    with transaction.atomic():
        contacts = list(
            expired_contacts()
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", "organisation_id")[:BATCH_SIZE]
        )
        if not contacts:
            return 0
        ids = [pk for pk, _org in contacts]
        records_anonymise(
            "crm.Contact", Contact.objects.filter(pk__in=ids), ANONYMISED_MARKER
        )
        audited = audit_blank("crm.Contact", ids, ANONYMISED_MARKER)
        Contact.objects.filter(pk__in=ids).update(anonymised_at=now)
        for _pk, organisation_id in contacts:
            counts[organisation_id]["contacts"] += 1
        counts[contacts[0][1]]["audit_events"] += audited
    return len(contacts)


def provision_records_expired(now: datetime):
    """Return provision records past their legal period whose data is gone.

    Past three years from the provision, and either its case was anonymised
    or every contact it lists was anonymised or erased.
    """
    today = local_date(now)
    try:
        limit = today.replace(year=today.year - PROVISION_RECORD_YEARS)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - PROVISION_RECORD_YEARS, day=28)
    live_contact = Contact.objects.filter(
        pk__in=ProvisionRecord.contacts.through.objects.filter(
            provisionrecord_id=OuterRef(OuterRef("pk"))
        ).values("contact_id"),
        anonymised_at__isnull=True,
    )
    any_contact = ProvisionRecord.contacts.through.objects.filter(
        provisionrecord_id=OuterRef("pk")
    )
    return ProvisionRecord.objects.filter(provided_on__lt=limit).filter(
        Q(referral__case__anonymised_at__isnull=False)
        | Q(Exists(any_contact), ~Exists(live_contact))
    )


def _provision_batch(now: datetime, counts: dict[int, Counter]) -> int:
    with transaction.atomic():
        rows = list(
            provision_records_expired(now)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", "provider_id")[:BATCH_SIZE]
        )
        if not rows:
            return 0
        ProvisionRecord.objects.filter(pk__in=[pk for pk, _org in rows]).delete()
        for _pk, provider_id in rows:
            counts[provider_id]["provision_records_deleted"] += 1
    return len(rows)


def retention_apply(*, now: datetime | None = None) -> dict:
    """Run the retention sweep at `now`; return the counts by kind.

    Audited once per organisation concerned (`retention.apply`, kinds and
    counts only). Nothing to do: no write at all.
    """
    now = now or timezone.now()
    counts: dict[int, Counter] = defaultdict(Counter)
    for step in (
        _cases_batch,
        _contacts_batch,
        _attendees_batch,
        _survey_comments_batch,
        _provision_batch,
    ):
        while step(now, counts):
            pass
    totals: Counter = Counter()
    organisations = Organisation.objects.in_bulk(list(counts))
    for organisation_id, kinds in sorted(counts.items()):
        kinds = Counter({k: v for k, v in kinds.items() if v})
        if not kinds:
            continue
        totals.update(kinds)
        audit_record(
            actor=None,
            action="retention.apply",
            organisation=organisations.get(organisation_id),
            data={"now": now.isoformat(), "counts": dict(sorted(kinds.items()))},
            now=now,
        )
    return dict(sorted(totals.items()))


# --- the policy and legal holds (API: retention-policy/, cases/{id}/legal-hold/) ---


def retention_policy_get(organisation) -> RetentionPolicy:
    """Return the organisation's policy (unsaved default when it has none)."""
    policy = RetentionPolicy.objects.filter(organisation=organisation).first()
    return policy or RetentionPolicy(organisation=organisation)


def retention_policy_update(
    *, actor, years_after_close=None, is_active=None, now: datetime | None = None
) -> RetentionPolicy:
    """Set the acting organisation's retention policy (org admins; audited)."""
    now = now or timezone.now()
    actor.require_membership()
    retention_policy_require_manageable(actor)
    if years_after_close is not None and (
        isinstance(years_after_close, bool)
        or not isinstance(years_after_close, int)
        or not 1 <= years_after_close <= 30
    ):
        raise ValidationFailed(
            _("保存年数は1から30までの整数で指定してください。"),
            field="years_after_close",
        )
    if is_active is not None and not isinstance(is_active, bool):
        raise ValidationFailed(
            _("有効（is_active）は true または false です。"), field="is_active"
        )
    with transaction.atomic():
        policy, _created = RetentionPolicy.objects.select_for_update().get_or_create(
            organisation=actor.organisation
        )
        before = {
            "years_after_close": policy.years_after_close,
            "is_active": policy.is_active,
        }
        if years_after_close is not None:
            policy.years_after_close = years_after_close
        if is_active is not None:
            policy.is_active = is_active
        policy.updated_by = actor.user
        policy.updated_at = now
        policy.full_clean()
        policy.save()
        audit_record(
            actor=actor,
            action="retention_policy.update",
            obj=policy,
            changes=changes_between(
                before,
                {
                    "years_after_close": policy.years_after_close,
                    "is_active": policy.is_active,
                },
            ),
            now=now,
        )
    return policy


def case_legal_hold_set(
    *, actor, case: Case, on: bool, reason: str = "", now: datetime | None = None
) -> Case:
    """Set or lift the legal hold (法的保全) of a case; audited.

    404 for an invisible case; 403 `not_permitted` unless the actor is a
    manager or org admin of the owning organisation; 400 without a reason
    when setting it.
    """
    now = now or timezone.now()
    actor.require_membership()
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotVisible(_("見つかりません。"))
    case_require_holdable(actor, case)
    if not isinstance(on, bool):
        raise ValidationFailed(_("on は true または false です。"), field="on")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if on and not reason:
        raise ValidationFailed(_("法的保全の理由を入力してください。"), field="reason")
    if len(reason) > 200:
        raise ValidationFailed(_("200文字以内で入力してください。"), field="reason")
    with transaction.atomic():
        case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
        before = case.is_on_legal_hold
        case.is_on_legal_hold = on
        case.legal_hold_reason = reason if on else ""
        case.legal_hold_by = actor.user if on else None
        case.legal_hold_at = now if on else None
        case.save(
            update_fields=[
                "is_on_legal_hold",
                "legal_hold_reason",
                "legal_hold_by",
                "legal_hold_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="case.legal_hold",
            obj=case,
            data={"reason": reason},
            changes={"is_on_legal_hold": [before, on]},
            now=now,
        )
    return case
