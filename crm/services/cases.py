"""Cases (案件): opening, closing and reopening one, and recording its outcomes.

What happens in a case has its own modules: consultations (相談記録,
crm/services/consultations.py) and follow-ups (crm/services/follow_ups.py);
corrections of recorded rows are crm/services/corrections.py.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import CaseStatus, IpType, OutcomeKind
from crm.models import (
    Case,
    Company,
    Outcome,
)
from crm.permissions import (
    case_require_manageable,
    case_require_writable,
)
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.calendar import local_date
from support_network.errors import Conflict, ValidationFailed


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
