"""The closed-loop referral (紹介) life cycle after sending, one service for every interface.

    sent ──▶ accepted ──▶ completed      (outcome note back to the sender)
      │          │
      │          └──▶ cancelled          (by the sender's organisation)
      ├──▶ declined                      (by the receiver)
      ├──▶ cancelled                     (by the sender's organisation)
      └──▶ expired                       (by the sweep, no actor)

Each transition is claimed with a conditional UPDATE on the current status
and must change exactly one row, so two people answering the same referral
at once get one winner and one 409 (STYLE.md §2 "Concurrency"). Sending is
crm/services/referrals.py.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import ReferralStatus
from crm.models import Referral
from crm.permissions import MANAGING_ROLES, NOT_PERMITTED
from crm.selectors.visibility import referral_records_visible_to
from crm.services.assignment import is_active_member
from crm.services.audit import audit_record
from crm.services.notifications import notify
from crm.services.referrals import referral_receivers_to_notify
from crm.statistics.facts import yorozu_link_marks_refresh
from support_network.actors import Actor
from support_network.calendar import business_days_between, local_date
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    NotVisible,
    PermissionDenied,
    ValidationFailed,
)
from support_network.selectors import active_members

# Statuses a transition may start from: the life cycle in one table.
ALLOWED_FROM = {
    "accept": (ReferralStatus.SENT,),
    "decline": (ReferralStatus.SENT,),
    "complete": (ReferralStatus.ACCEPTED,),
    "cancel": (ReferralStatus.SENT, ReferralStatus.ACCEPTED),
    "expire": (ReferralStatus.SENT,),
}

# "…ことはできません" phrases for the invalid-transition message.
ACTION_PHRASES = {
    "accept": gettext_lazy("受け入れる"),
    "decline": gettext_lazy("辞退する"),
    "complete": gettext_lazy("完了にする"),
    "cancel": gettext_lazy("取り消す"),
    "expire": gettext_lazy("期限切れにする"),
}

MAX_NOTE_LENGTH = 5000


def _visible_referral(actor: Actor, referral: Referral) -> Referral:
    """Return the referral as the actor may see it, or 404."""
    found = (
        referral_records_visible_to(actor)
        .select_related("case", "case__company", "from_organisation", "to_organisation")
        .filter(pk=referral.pk)
        .first()
    )
    if found is None:
        raise NotVisible(_("見つかりません。"))
    return found


def _require_receiver(actor: Actor, referral: Referral) -> None:
    if actor.organisation_id is None or (
        actor.organisation_id != referral.to_organisation_id
    ):
        raise PermissionDenied(
            _("紹介先の組織の職員だけが、受入・辞退・完了を記録できます。"),
            code=NOT_PERMITTED,
        )


def _require_sender(actor: Actor, referral: Referral) -> None:
    if actor.organisation_id is None or (
        actor.organisation_id != referral.from_organisation_id
    ):
        raise PermissionDenied(
            _("紹介元の組織の職員だけが紹介を取り消せます。"), code=NOT_PERMITTED
        )


def _claim(
    *,
    referral: Referral,
    action: str,
    target: str,
    now: datetime,
    **values,
) -> Referral:
    """Move the referral to target if its status allows action; else 409.

    The conditional UPDATE takes the row lock and re-checks the status, so
    of two concurrent transitions exactly one changes the row.
    """
    claimed = Referral.objects.filter(
        pk=referral.pk, status__in=ALLOWED_FROM[action]
    ).update(status=target, updated_at=now, **values)
    if claimed != 1:
        current = (
            Referral.objects.filter(pk=referral.pk)
            .values_list("status", flat=True)
            .first()
        )
        label = ReferralStatus(current).label if current else "-"
        raise Conflict(
            _("この紹介は現在「%(status)s」のため、%(action)sことはできません。")
            % {"status": label, "action": ACTION_PHRASES[action]},
            code="invalid_transition",
            status=current,
        )
    referral.refresh_from_db()
    return referral


def _clean_note(note: str, field: str = "note") -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationFailed(
            _("%(max)s文字以内で入力してください。") % {"max": MAX_NOTE_LENGTH},
            field=field,
        )
    return note


def _notify_sender(
    referral: Referral, *, kind: str, message: str, now: datetime
) -> None:
    """Tell the sender; if they have left its organisation, its triage roles."""
    sender_still_member = (
        active_members([referral.from_organisation_id])
        .filter(user_id=referral.sent_by_id)
        .exists()
    )
    recipients = (
        [referral.sent_by]
        if sender_still_member
        else referral_receivers_to_notify(referral.from_organisation)
    )
    notify(
        recipients=recipients,
        kind=kind,
        message=message,
        obj=referral,
        dedupe_key=f"referral:{referral.pk}:{referral.status}",
        now=now,
    )


@transaction.atomic
def referral_accept(
    *, actor: Actor, referral: Referral, note: str = "", now: datetime | None = None
) -> Referral:
    """Accept a referral (sent → accepted); only the receiving organisation may."""
    now = now or timezone.now()
    referral = _visible_referral(actor, referral)
    _require_receiver(actor, referral)
    note = _clean_note(note)
    referral = _claim(
        referral=referral,
        action="accept",
        target=ReferralStatus.ACCEPTED,
        now=now,
        answered_at=now,
        answer_business_days=business_days_between(
            local_date(referral.sent_at), local_date(now)
        ),
        answered_by=actor.user,
        answer_note=note,
        # The accepting member takes it until a coordinator assigns it.
        assignee=actor.user,
    )
    audit_record(
        actor=actor,
        action="referral.accept",
        obj=referral,
        now=now,
        data={"note": note},
        changes={
            "status": [ReferralStatus.SENT, ReferralStatus.ACCEPTED],
            "assignee": [None, actor.user.pk],
        },
    )
    _notify_sender(
        referral,
        kind="referral.accepted",
        message=_("%(receiver)s が紹介を受け入れました: %(company)s")
        % {
            "receiver": referral.to_organisation.name,
            "company": referral.case.company.name,
        },
        now=now,
    )
    return referral


@transaction.atomic
def referral_decline(
    *, actor: Actor, referral: Referral, note: str = "", now: datetime | None = None
) -> Referral:
    """Decline a referral (sent → declined); the receiver stops seeing the case."""
    now = now or timezone.now()
    referral = _visible_referral(actor, referral)
    _require_receiver(actor, referral)
    note = _clean_note(note)
    referral = _claim(
        referral=referral,
        action="decline",
        target=ReferralStatus.DECLINED,
        now=now,
        answered_at=now,
        answer_business_days=business_days_between(
            local_date(referral.sent_at), local_date(now)
        ),
        answered_by=actor.user,
        answer_note=note,
    )
    audit_record(
        actor=actor,
        action="referral.decline",
        obj=referral,
        now=now,
        data={"note": note},
        changes={"status": [ReferralStatus.SENT, ReferralStatus.DECLINED]},
    )
    message = _("%(receiver)s が紹介を辞退しました: %(company)s") % {
        "receiver": referral.to_organisation.name,
        "company": referral.case.company.name,
    }
    if note:
        message += _("（理由: %(note)s）") % {"note": note}
    _notify_sender(referral, kind="referral.declined", message=message, now=now)
    return referral


@transaction.atomic
def referral_complete(
    *,
    actor: Actor,
    referral: Referral,
    outcome_note: str,
    now: datetime | None = None,
) -> Referral:
    """Complete an accepted referral with the outcome note that goes back to the sender."""
    now = now or timezone.now()
    referral = _visible_referral(actor, referral)
    _require_receiver(actor, referral)
    outcome_note = _clean_note(outcome_note, field="outcome_note")
    if not outcome_note:
        raise ValidationFailed(
            _("紹介元へ返す結果報告を入力してください。"), field="outcome_note"
        )
    referral = _claim(
        referral=referral,
        action="complete",
        target=ReferralStatus.COMPLETED,
        now=now,
        completed_at=now,
        outcome_note=outcome_note,
    )
    audit_record(
        actor=actor,
        action="referral.complete",
        obj=referral,
        now=now,
        data={"outcome_note": outcome_note},
        changes={"status": [ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED]},
    )
    _notify_sender(
        referral,
        kind="referral.completed",
        message=_("%(receiver)s から結果報告が届きました: %(company)s — %(outcome)s")
        % {
            "receiver": referral.to_organisation.name,
            "company": referral.case.company.name,
            "outcome": outcome_note,
        },
        now=now,
    )
    return referral


@transaction.atomic
def referral_cancel(
    *, actor: Actor, referral: Referral, note: str = "", now: datetime | None = None
) -> Referral:
    """Cancel a sent or accepted referral; only the sender's organisation may."""
    now = now or timezone.now()
    referral = _visible_referral(actor, referral)
    _require_sender(actor, referral)
    note = _clean_note(note)
    status_before = referral.status
    referral = _claim(
        referral=referral,
        action="cancel",
        target=ReferralStatus.CANCELLED,
        now=now,
        closed_at=now,
        closed_by=actor.user,
    )
    yorozu_link_marks_refresh(case_ids=[referral.case_id])
    # The model has no cancellation note; the audit event keeps it.
    audit_record(
        actor=actor,
        action="referral.cancel",
        obj=referral,
        now=now,
        data={"note": note},
        changes={"status": [status_before, ReferralStatus.CANCELLED]},
    )
    message = _("%(sender)s が紹介を取り消しました: %(company)s") % {
        "sender": referral.from_organisation.name,
        "company": referral.case.company.name,
    }
    if note:
        message += _("（理由: %(note)s）") % {"note": note}
    recipients = referral_receivers_to_notify(referral.to_organisation)
    if referral.answered_by_id:
        recipients.append(referral.answered_by)
    notify(
        recipients=recipients,
        kind="referral.cancelled",
        message=message,
        obj=referral,
        dedupe_key=f"referral:{referral.pk}:cancelled",
        now=now,
    )
    return referral


@transaction.atomic
def referral_assign(
    *, actor: Actor, referral: Referral, assignee, now: datetime | None = None
) -> Referral:
    """Assign the receiving side of an accepted referral to one of its members.

    The receiving organisation's coordinators, managers and org admins
    assign anyone of its active members; window staff may take it
    themselves (DESIGN.md "Who may change what" rule 4).
    """
    now = now or timezone.now()
    referral = _visible_referral(actor, referral)
    _require_receiver(actor, referral)
    assignee_id = getattr(assignee, "pk", None)
    if not actor.has_role(*MANAGING_ROLES) and not (
        actor.has_role(Role.WINDOW_STAFF) and assignee_id == actor.user.pk
    ):
        raise PermissionDenied(
            _(
                "紹介先の担当者を割り当てられるのは、紹介先の組織のコーディネーター・"
                "管理者・組織管理者です（窓口職員は自分を担当者にできます）。"
            ),
            code=NOT_PERMITTED,
        )
    if not is_active_member(assignee_id, referral.to_organisation_id):
        raise ValidationFailed(
            _("担当者は紹介先の組織の職員から選んでください。"), field="assignee"
        )
    referral = Referral.objects.select_for_update(no_key=True).get(pk=referral.pk)
    if referral.status != ReferralStatus.ACCEPTED:
        raise Conflict(
            _("担当者を割り当てられるのは、受け入れた紹介だけです。"),
            code="invalid_transition",
            status=referral.status,
        )
    previous = referral.assignee_id
    if previous == assignee_id:
        return referral
    referral.assignee = assignee
    referral.save(update_fields=["assignee", "updated_at"])
    audit_record(
        actor=actor,
        action="referral.assign",
        obj=referral,
        now=now,
        changes={"assignee": [previous, assignee_id]},
    )
    if assignee_id != actor.user.pk:
        notify(
            recipients=[assignee],
            kind="referral.assigned",
            message=_("紹介（%(sender)s から）の担当者にあなたが割り当てられました。")
            % {"sender": referral.from_organisation.name},
            obj=referral,
            now=now,
        )
    return referral


@transaction.atomic
def referral_expire(*, referral: Referral, now: datetime | None = None) -> Referral:
    """Expire an unanswered referral (sent → expired); the system acts, nobody else.

    Whether it is due (DESIGN.md: expiry after 10 business days) is the
    sweep's decision; this only makes the transition, once.
    """
    now = now or timezone.now()
    referral = _claim(
        referral=referral,
        action="expire",
        target=ReferralStatus.EXPIRED,
        now=now,
        closed_at=now,
        closed_by=None,
    )
    referral = Referral.objects.select_related(
        "case__company", "from_organisation", "to_organisation", "sent_by"
    ).get(pk=referral.pk)
    audit_record(actor=None, action="referral.expire", obj=referral, now=now)
    _notify_sender(
        referral,
        kind="referral.expired",
        message=_(
            "%(receiver)s への紹介は回答期限を過ぎたため期限切れになりました: %(company)s"
        )
        % {
            "receiver": referral.to_organisation.name,
            "company": referral.case.company.name,
        },
        now=now,
    )
    return referral
