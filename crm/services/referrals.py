"""The closed-loop referral (紹介) life cycle, one service for every interface.

    sent ──▶ accepted ──▶ completed      (outcome note back to the sender)
      │          │
      │          └──▶ cancelled          (by the sender's organisation)
      ├──▶ declined                      (by the receiver)
      ├──▶ cancelled                     (by the sender's organisation)
      └──▶ expired                       (by the sweep, no actor)

Each transition is claimed with a conditional UPDATE on the current status
and must change exactly one row, so two people answering the same referral
at once get one winner and one 409 (STYLE.md §2 "Concurrency"). Sending
needs the company's active consent covering the receiver (APPI art. 27) and
writes the provision record in the same transaction (APPI art. 29).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import CaseStatus, ConsentScope, ReferralStatus, Topic
from crm.lock_objects import company_lock_active
from crm.models import (
    Case,
    Consent,
    Contact,
    ProvisionRecord,
    Referral,
    ReferralTopic,
)
from crm.permissions import MANAGING_ROLES, NOT_PERMITTED, case_require_writable
from crm.selectors.visibility import referral_records_visible_to
from crm.services.assignment import is_active_member
from crm.services.audit import audit_record
from crm.services.facts import yorozu_link_marks_refresh
from crm.services.notifications import notify
from support_network.actors import Actor
from support_network.calendar import (
    add_business_days,
    business_days_between,
    local_date,
)
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    NotVisible,
    PermissionDenied,
    ValidationFailed,
)
from support_network.models import Organisation
from support_network.selectors import active_memberships

# The receiver answers within 3 business days (DESIGN.md "Rules").
RESPOND_WITHIN_BUSINESS_DAYS = 3

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
MAX_NOTE_LENGTH = 5000


def _ja_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _topic_labels(topics: Iterable[str]) -> str:
    return "・".join(str(Topic(t).label) for t in topics)


def _members(organisation_id: int, roles: Iterable[str] | None = None) -> list:
    """Return the active users of an organisation (with one of roles, if given)."""
    qs = (
        active_memberships()
        .filter(organisation_id=organisation_id)
        .select_related("user")
    )
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return [m.user for m in qs.order_by("user_id")]


def referral_receivers_to_notify(organisation: Organisation) -> list:
    """Return who is told of a referral to organisation (RECEIVER_NOTIFIED_ROLES)."""
    return _members(organisation.pk, RECEIVER_NOTIFIED_ROLES) or _members(
        organisation.pk
    )


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
    if not topics:
        raise ValidationFailed(_("相談分野を1つ以上選んでください。"), field="topics")
    bad = [t for t in topics if t not in Topic.values]
    if bad:
        raise ValidationFailed(
            _("相談分野が正しくありません: %(slugs)s") % {"slugs": ", ".join(bad)},
            field="topics",
        )

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
            "respond_by": _ja_date(referral.respond_by),
        },
        obj=referral,
        dedupe_key=f"referral:{referral.pk}:sent",
        now=now,
    )
    return referral


# --- Transitions ----------------------------------------------------------


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
        active_memberships()
        .filter(
            user_id=referral.sent_by_id,
            organisation_id=referral.from_organisation_id,
        )
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
