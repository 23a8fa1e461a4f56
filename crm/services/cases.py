"""Cases and what happens in them: consultations (相談記録), follow-ups, outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CaseStatus, Channel, FollowUpStatus, IpType, OutcomeKind, Topic
from crm.lock_objects import company_lock_active
from crm.models import (
    Case,
    Company,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
    FollowUp,
    Outcome,
)
from crm.permissions import (
    case_require_manageable,
    case_require_writable,
    record_require_changeable,
)
from crm.selectors.visibility import cases_visible_to, follow_ups_visible_to
from crm.services.audit import audit_record
from crm.services.facts import consultation_facts_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import Conflict, NotVisible, ValidationFailed
from support_network.models import Organisation

# A consultation lasts at most a working day; longer is a typo.
MAX_DURATION_MINUTES = 8 * 60
# How far ahead a follow-up may be set: a yearly review 「1年後の確認」 set a
# few days late must fit, so five years (a patent's examination request).
MAX_FOLLOW_UP_DAYS = 5 * 366


# No savepoint when nested: consultation_create opens a case inside its own
# transaction and never recovers from a failure here, so the SAVEPOINT and
# RELEASE round trips bought nothing (bench/README.md, consultation logging).
@transaction.atomic(savepoint=False)
def case_open(
    *,
    actor: Actor,
    company: Company,
    title: str,
    is_confidential: bool = False,
    today: date | None = None,
) -> Case:
    """Open a case of company owned by the actor's organisation, assigned to the actor."""
    actor.require_membership()
    case = Case.objects.create(
        company=company,
        organisation=actor.organisation,
        title=title[:200],
        is_confidential=is_confidential,
        assignee=actor.user,
        created_by=actor.user,
        opened_on=today or timezone.localdate(),
    )
    audit_record(actor=actor, action="case.open", obj=case)
    return case


def _attendee_organisations(actor: Actor, codes: Iterable[str]) -> list[Organisation]:
    codes = list(dict.fromkeys(codes))
    found = {
        o.code: o for o in Organisation.objects.filter(code__in=codes, is_active=True)
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationFailed(
            _("同席組織のコードが正しくありません: %(codes)s")
            % {"codes": ", ".join(unknown)},
            field="attendees",
        )
    if actor.organisation and actor.organisation.code in found:
        raise ValidationFailed(
            _("同席組織に自分の組織は指定できません。"), field="attendees"
        )
    return [found[c] for c in codes]


def consultation_fields_validate(
    *,
    occurred_at: datetime,
    channel: str,
    duration_minutes: int,
    topics: list[str],
    ip_types: list[str],
    summary: str,
    today: date,
    follow_up_on: date | None = None,
) -> tuple[datetime, date]:
    """Check a consultation's fields (create and edit share the rules).

    Returns the aware `occurred_at` and its JST date; raises a field error
    in Japanese.
    """
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at)
    occurred_on = local_date(occurred_at)
    if occurred_on > today:
        raise ValidationFailed(
            _("相談日時に未来の日付は入力できません。"), field="occurred_at"
        )
    if channel not in Channel.values:
        raise ValidationFailed(_("相談方法が正しくありません。"), field="channel")
    if not 1 <= duration_minutes <= MAX_DURATION_MINUTES:
        raise ValidationFailed(
            _("所要時間は1〜%(max)s分で入力してください。")
            % {"max": MAX_DURATION_MINUTES},
            field="duration_minutes",
        )
    if not topics:
        raise ValidationFailed(_("相談分野を1つ以上選んでください。"), field="topics")
    bad = [t for t in topics if t not in Topic.values]
    if bad:
        raise ValidationFailed(
            _("相談分野が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="topics",
        )
    bad = [t for t in ip_types if t not in IpType.values]
    if bad:
        raise ValidationFailed(
            _("知財の種類が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="ip_types",
        )
    if not summary.strip():
        raise ValidationFailed(_("相談内容を入力してください。"), field="summary")
    if follow_up_on is not None:
        if follow_up_on < occurred_on:
            raise ValidationFailed(
                _("フォローアップ日は相談日以降の日付にしてください。"),
                field="follow_up_on",
            )
        if (follow_up_on - today).days > MAX_FOLLOW_UP_DAYS:
            raise ValidationFailed(
                _("フォローアップ日は5年以内の日付にしてください。"),
                field="follow_up_on",
            )
    return occurred_at, occurred_on


@transaction.atomic
def consultation_create(
    *,
    actor: Actor,
    company: Company,
    occurred_at: datetime,
    channel: str,
    duration_minutes: int,
    topics: Iterable[str],
    summary: str,
    case: Case | None = None,
    ip_types: Iterable[str] = (),
    advice: str = "",
    next_action: str = "",
    follow_up_on: date | None = None,
    attendees: Iterable[str] = (),
    confidential: bool = False,
    now: datetime | None = None,
) -> Consultation:
    """Log a consultation; open a case when none is given; set its follow-up.

    `follow_up_on` creates a follow-up for the author (API.md). Everything
    is written in one transaction, or nothing is.
    """
    actor.require_membership()
    now = now or timezone.now()
    today = local_date(now)
    topics = list(dict.fromkeys(topics))
    ip_types = list(dict.fromkeys(ip_types))
    occurred_at, occurred_on = consultation_fields_validate(
        occurred_at=occurred_at,
        channel=channel,
        duration_minutes=duration_minutes,
        topics=topics,
        ip_types=ip_types,
        summary=summary,
        follow_up_on=follow_up_on,
        today=today,
    )
    attendee_orgs = _attendee_organisations(actor, attendees)
    company = company_lock_active(company.pk)

    if case is None:
        title = _("%(company)s の相談") % {"company": company.name}
        case = case_open(
            actor=actor,
            company=company,
            title=title,
            is_confidential=confidential,
            today=occurred_on,
        )
    else:
        case = cases_visible_to(actor).filter(pk=case.pk).first()
        if case is None:
            raise ValidationFailed(_("案件が見つかりません。"), field="case")
        case_require_writable(actor, case)
        if case.company_id != company.pk:
            raise ValidationFailed(
                _("案件の企業等と相談の企業等が一致しません。"), field="case"
            )
        if case.status != CaseStatus.OPEN:
            raise ValidationFailed(
                _(
                    "この案件は完了しています。相談を記録するには、"
                    "案件を再開してください。"
                ),
                field="case",
                code="case_closed",
            )

    first = (
        Consultation.objects.filter(company=company, is_company_first=True)
        .values("pk", "occurred_at")
        .first()
    )
    is_company_first = first is None or occurred_at < first["occurred_at"]
    unmarked = []
    if is_company_first and first is not None:
        # A back-dated consultation becomes the company's first.
        Consultation.objects.filter(pk=first["pk"]).update(is_company_first=False)
        unmarked.append(first["pk"])
    consultation = Consultation.objects.create(
        case=case,
        is_company_first=is_company_first,
        company=company,
        organisation=actor.organisation,
        author=actor.user,
        occurred_at=occurred_at,
        occurred_on=occurred_on,
        fiscal_year=fiscal_year(occurred_at),
        channel=channel,
        duration_minutes=duration_minutes,
        summary=summary.strip(),
        advice=advice.strip(),
        next_action=next_action.strip()[:200],
        is_confidential=confidential,
    )
    ConsultationTopic.objects.bulk_create(
        ConsultationTopic(consultation=consultation, topic=t) for t in topics
    )
    ConsultationIpType.objects.bulk_create(
        ConsultationIpType(consultation=consultation, ip_type=t) for t in ip_types
    )
    if attendee_orgs:
        consultation.attendees.set(attendee_orgs)
    consultation_facts_refresh(consultation_ids=[consultation.pk], new=True)
    if unmarked:  # the company's previous first consultation
        consultation_facts_refresh(consultation_ids=unmarked)
    if follow_up_on is not None:
        FollowUp.objects.create(
            case=case,
            consultation=consultation,
            organisation=actor.organisation,
            assignee=actor.user,
            due_on=follow_up_on,
            note=(next_action or summary).strip()[:200],
        )
    audit_record(actor=actor, action="consultation.create", obj=consultation, now=now)
    return consultation


def company_first_consultation_refresh(*, company_ids: Iterable[int]) -> None:
    """Mark each company's first consultation in the network (merge, bulk loads).

    The first is the earliest `occurred_at`, then the lowest id: the same
    order `consultation_create` keeps when it sets the flag one at a time.
    """
    company_ids = list(company_ids)
    Consultation.objects.filter(
        company_id__in=company_ids, is_company_first=True
    ).update(is_company_first=False)
    first_ids = [
        Consultation.objects.filter(company_id=company_id)
        .order_by("occurred_at", "pk")
        .values_list("pk", flat=True)
        .first()
        for company_id in company_ids
    ]
    Consultation.objects.filter(pk__in=[pk for pk in first_ids if pk]).update(
        is_company_first=True
    )
    consultation_facts_refresh(
        consultation_ids=Consultation.objects.filter(
            company_id__in=company_ids
        ).values_list("pk", flat=True)
    )


@transaction.atomic
def follow_up_complete(
    *, actor: Actor, follow_up: FollowUp, now: datetime | None = None
) -> FollowUp:
    """Mark a follow-up done; this stops its reminders and escalations.

    Only the organisation that set it may (its assignee, the consultation's
    author, or its coordinators, managers and org admins), and only while
    that organisation still works on the case (crm.permissions).
    """
    now = now or timezone.now()
    visible = follow_ups_visible_to(actor).filter(pk=follow_up.pk).first()
    if visible is None:
        raise NotVisible(_("見つかりません。"))
    record_require_changeable(actor, visible)
    # Conditional update: a second completion (or a concurrent one) changes nothing.
    updated = FollowUp.objects.filter(
        pk=follow_up.pk, status=FollowUpStatus.OPEN
    ).update(status=FollowUpStatus.DONE, done_at=now, done_by=actor.user)
    if updated != 1:
        raise Conflict(
            _("このフォローアップは既に完了しています。"), code="invalid_transition"
        )
    follow_up.refresh_from_db()
    audit_record(
        actor=actor,
        action="follow_up.complete",
        obj=follow_up,
        now=now,
        changes={"status": [FollowUpStatus.OPEN, FollowUpStatus.DONE]},
    )
    return follow_up


def outcome_fields_validate(
    *,
    kind: str,
    occurred_on: date,
    reference: str,
    amount_yen: int | None,
    ip_type: str,
    today: date,
) -> None:
    """Check an outcome's fields (record and edit share the rules)."""
    if kind not in OutcomeKind.values:
        raise ValidationFailed(_("成果の種類が正しくありません。"), field="kind")
    if occurred_on > today:
        raise ValidationFailed(_("未来の日付は入力できません。"), field="occurred_on")
    if amount_yen is not None and amount_yen < 0:
        raise ValidationFailed(
            _("金額は0円以上で入力してください。"), field="amount_yen"
        )
    if ip_type and ip_type not in IpType.values:
        raise ValidationFailed(_("知財の種類が正しくありません。"), field="ip_type")
    if kind in (OutcomeKind.FILING, OutcomeKind.REGISTRATION) and not reference.strip():
        raise ValidationFailed(
            _("出願・登録には番号（例: 特願2025-012345）を入力してください。"),
            field="reference",
        )


@transaction.atomic
def outcome_record(
    *,
    actor: Actor,
    case: Case,
    kind: str,
    occurred_on: date,
    reference: str = "",
    amount_yen: int | None = None,
    ip_type: str = "",
    note: str = "",
    today: date | None = None,
) -> Outcome:
    """Record an outcome (filing, registration, licence, financing, subsidy) of a case."""
    actor.require_membership()
    case_require_writable(actor, case)
    today = today or timezone.localdate()
    outcome_fields_validate(
        kind=kind,
        occurred_on=occurred_on,
        reference=reference,
        amount_yen=amount_yen,
        ip_type=ip_type,
        today=today,
    )
    outcome = Outcome.objects.create(
        case=case,
        company=case.company,
        organisation=actor.organisation,
        kind=kind,
        ip_type=ip_type,
        occurred_on=occurred_on,
        reference=reference.strip(),
        amount_yen=amount_yen,
        note=note,
        recorded_by=actor.user,
    )
    audit_record(actor=actor, action="outcome.create", obj=outcome)
    return outcome


# --- A case's life: close and reopen ---------------------------------------------


MAX_CLOSING_NOTE = 2000


@transaction.atomic
def case_close(
    *, actor: Actor, case: Case, note: str = "", now: datetime | None = None
) -> Case:
    """Close a case (open → closed) with a closing note; its organisation's managers do."""
    now = now or timezone.now()
    case_require_manageable(
        actor,
        case,
        _(
            "案件を完了にできるのは、案件を担当する組織のコーディネーター・"
            "管理者・組織管理者です。"
        ),
    )
    note = (note or "").strip()
    if len(note) > MAX_CLOSING_NOTE:
        raise ValidationFailed(
            _("%(max)s文字以内で入力してください。") % {"max": MAX_CLOSING_NOTE},
            field="note",
        )
    today = max(local_date(now), case.opened_on)
    updated = Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN).update(
        status=CaseStatus.CLOSED,
        closed_on=today,
        closing_note=note,
        closed_by=actor.user,
        updated_at=now,
    )
    if updated != 1:
        raise Conflict(
            _("この案件は既に完了しています。"),
            code="invalid_transition",
            status=CaseStatus.CLOSED,
        )
    case.refresh_from_db()
    audit_record(
        actor=actor,
        action="case.close",
        obj=case,
        now=now,
        data={"note": note},
        changes={"status": [CaseStatus.OPEN, CaseStatus.CLOSED]},
    )
    return case


@transaction.atomic
def case_reopen(
    *, actor: Actor, case: Case, note: str = "", now: datetime | None = None
) -> Case:
    """Reopen a closed case (closed → open); the closing note stays in the audit trail."""
    now = now or timezone.now()
    case_require_manageable(
        actor,
        case,
        _(
            "案件を再開できるのは、案件を担当する組織のコーディネーター・"
            "管理者・組織管理者です。"
        ),
    )
    note = (note or "").strip()[:MAX_CLOSING_NOTE]
    updated = Case.objects.filter(pk=case.pk, status=CaseStatus.CLOSED).update(
        status=CaseStatus.OPEN,
        closed_on=None,
        closing_note="",
        closed_by=None,
        updated_at=now,
    )
    if updated != 1:
        raise Conflict(
            _("この案件は対応中です（再開の必要はありません）。"),
            code="invalid_transition",
            status=CaseStatus.OPEN,
        )
    case.refresh_from_db()
    audit_record(
        actor=actor,
        action="case.reopen",
        obj=case,
        now=now,
        data={"note": note},
        changes={"status": [CaseStatus.CLOSED, CaseStatus.OPEN]},
    )
    return case
