"""Who may change what (DESIGN.md "Who may change what"): seeing is not writing.

Visibility (crm.selectors) decides what exists for a user; these functions
decide what they may change. Every service that writes calls one of the
`*_require_*` checks below, so the API, the web UI, the admin and the
commands share one rule. A record the actor may not see raises NotVisible
(404); one they see but may not change raises PermissionDenied with the
code `not_permitted` (403). The `can_*` twins answer the same question for
the web UI, which shows no button for what the user may not do.

In short:
1. A case's records are written by the organisations working on it: the
   owning organisation (experts only on cases assigned to them), and an
   organisation while it holds an **accepted** referral on the case. A
   receiver of a referral still `sent` reads and answers it; after
   `completed` it reads only. Hub coordinators who see through consent
   write nothing.
2. A consultation, outcome or follow-up is changed only by the organisation
   that wrote it: its author (a follow-up also its assignee), or that
   organisation's coordinators, managers and org admins.
3. Closing, reopening and assigning a case are the owning organisation's
   coordinators, managers and org admins.
4. A company's consents, contacts and master data are recorded by the
   organisations working with the company: the one that registered it, one
   that owns one of its cases, or one holding an accepted referral on one.
5. An event is edited by its host organisation's staff (not experts); its
   registrations and attendance are kept by the host and the co-hosts; any
   member organisation (not experts) may register a company for an event.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from crm.choices import ReferralStatus
from crm.models import (
    Case,
    Company,
    Consultation,
    Contact,
    Event,
    FollowUp,
    Outcome,
    Referral,
)
from crm.selectors.visibility import cases_visible_to, own_case_q
from support_network.actors import Actor
from support_network.choices import Role
from support_network.errors import NotVisible, PermissionDenied

# Roles that run their organisation's work: they change colleagues' records,
# close, reopen and assign cases.
MANAGING_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.ORG_ADMIN)
# Roles that may merge duplicate companies (master-data work).
MERGE_ROLES = (Role.COORDINATOR, Role.ORG_ADMIN)

NOT_PERMITTED = "not_permitted"


def not_permitted(message: str | None = None) -> PermissionDenied:
    """Return the 403 for a visible record the actor may not change."""
    return PermissionDenied(
        message or _("この操作を行う権限がありません。"), code=NOT_PERMITTED
    )


def _accepted_referral_to(actor: Actor, case_ref: str) -> Exists:
    return Exists(
        Referral.objects.filter(
            case_id=OuterRef(case_ref),
            to_organisation_id=actor.organisation_id,
            status=ReferralStatus.ACCEPTED,
        )
    )


def case_writable_q(actor: Actor, prefix: str = "") -> Q:
    """Return a Q selecting the cases (at `prefix`) whose records the actor may write.

    Rule 1: the owning organisation (within its own visibility rules: experts
    only assigned cases, confidential ones only assigned staff, managers and
    org admins) and an organisation holding an accepted referral on it.
    """
    case_ref = f"{prefix}id" if prefix else "id"
    return own_case_q(actor, prefix, confidential=False) | Q(
        _accepted_referral_to(actor, case_ref)
    )


def cases_writable_by(actor: Actor) -> QuerySet[Case]:
    """Return the cases on which the actor may write records."""
    if actor.is_superuser:
        return Case.objects.all()
    if actor.membership is None:
        return Case.objects.none()
    return Case.objects.filter(case_writable_q(actor))


def can_write_case(actor: Actor, case: Case) -> bool:
    """Return True when the actor may write records on case."""
    return cases_writable_by(actor).filter(pk=case.pk).exists()


def case_require_writable(actor: Actor, case: Case) -> None:
    """Refuse (404 unseen, 403 seen) unless the actor may write on case."""
    if can_write_case(actor, case):
        return
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotVisible(_("案件が見つかりません。"))
    raise not_permitted(
        _(
            "この案件に記録できるのは、案件を担当する組織と、紹介を受け入れた組織だけです。"
        )
    )


def can_manage_case(actor: Actor, case: Case) -> bool:
    """Return True when the actor may close, reopen or assign case (rule 3)."""
    if actor.is_superuser:
        return True
    return (
        actor.organisation_id == case.organisation_id
        and actor.has_role(*MANAGING_ROLES)
        and cases_visible_to(actor).filter(pk=case.pk).exists()
    )


def case_require_manageable(
    actor: Actor, case: Case, message: str | None = None
) -> None:
    """Refuse unless the actor may close, reopen or assign case."""
    if can_manage_case(actor, case):
        return
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotVisible(_("案件が見つかりません。"))
    raise not_permitted(
        message
        or _(
            "案件を担当する組織のコーディネーター・管理者・組織管理者だけが"
            "この操作を行えます。"
        )
    )


def _record_author_id(record: Consultation | Outcome | FollowUp) -> int | None:
    if isinstance(record, Consultation):
        return record.author_id
    if isinstance(record, Outcome):
        return record.recorded_by_id
    if record.consultation_id is None:
        return None
    if FollowUp.consultation.is_cached(record):  # loaded with the timeline
        return record.consultation.author_id
    return (
        Consultation.objects.filter(pk=record.consultation_id)
        .values_list("author_id", flat=True)
        .first()
    )


def can_change_record(
    actor: Actor,
    record: Consultation | Outcome | FollowUp,
    *,
    case_is_writable: bool | None = None,
) -> bool:
    """Return True when the actor may edit, void or complete record (rule 2).

    The record's organisation must still be working on the case (rule 1):
    after a referral is completed, the receiver's records are read only.
    A page that shows many records of one case passes `case_is_writable`
    (can_write_case, asked once) instead of a query per record.
    """
    if actor.is_superuser:
        return True
    if actor.organisation_id is None or record.organisation_id != actor.organisation_id:
        return False
    user_id = actor.user.pk
    mine = _record_author_id(record) == user_id or (
        isinstance(record, FollowUp) and record.assignee_id == user_id
    )
    if not mine and (actor.is_expert or not actor.has_role(*MANAGING_ROLES)):
        return False
    if case_is_writable is not None:
        return case_is_writable
    return cases_writable_by(actor).filter(pk=record.case_id).exists()


def record_require_changeable(
    actor: Actor, record: Consultation | Outcome | FollowUp
) -> None:
    """Refuse with 403 `not_permitted` unless the actor may change record.

    The caller has already found record through its visibility selector.
    """
    if can_change_record(actor, record):
        return
    raise not_permitted(
        _(
            "この記録を変更できるのは、記録した組織の記録者・担当者と、"
            "その組織のコーディネーター・管理者・組織管理者だけです。"
        )
    )


def can_change_contact(actor: Actor, contact: Contact) -> bool:
    """Return True when the actor may edit or remove contact (its recording organisation)."""
    return actor.is_superuser or (
        actor.organisation_id is not None
        and contact.organisation_id == actor.organisation_id
    )


def contact_require_changeable(
    actor: Actor, contact: Contact, message: str | None = None
) -> None:
    """Refuse with 403 unless the actor's organisation recorded contact."""
    if not can_change_contact(actor, contact):
        raise not_permitted(
            message or _("この担当者の情報を変更できるのは、登録した組織だけです。")
        )


def _working_with_company_q(actor: Actor) -> Q:
    """Return a Q over companies: registered by, or worked on by, the actor's org."""
    org = actor.organisation_id
    owns_case = Exists(
        Case.objects.filter(company_id=OuterRef("pk"), organisation_id=org)
    )
    accepted = Exists(
        Referral.objects.filter(
            case__company_id=OuterRef("pk"),
            to_organisation_id=org,
            status=ReferralStatus.ACCEPTED,
        )
    )
    return Q(registered_by_id=org) | Q(owns_case) | Q(accepted)


def companies_workable_by(actor: Actor) -> QuerySet[Company]:
    """Return the companies whose consents, contacts and data the actor may record."""
    qs = Company.objects.filter(merged_into__isnull=True)
    if actor.is_superuser:
        return qs
    if actor.membership is None:
        return qs.none()
    return qs.filter(_working_with_company_q(actor))


def can_work_with_company(actor: Actor, company: Company) -> bool:
    """Return True when the actor's organisation works with company (rule 4)."""
    if actor.is_expert:
        return False
    return companies_workable_by(actor).filter(pk=company.pk).exists()


def company_require_workable(actor: Actor, company: Company) -> None:
    """Refuse with 403 unless the actor's organisation works with company."""
    if can_work_with_company(actor, company):
        return
    raise not_permitted(
        _(
            "この企業等の同意・担当者・登録情報を記録できるのは、登録した組織、"
            "案件を担当する組織、紹介を受け入れた組織だけです。"
        )
    )


def company_require_mergeable(actor: Actor, source: Company, target: Company) -> None:
    """Refuse a merge unless the actor may merge these two companies.

    Superusers (the network's data stewards) merge any two; otherwise a
    coordinator or org admin of an organisation working with both.
    """
    if actor.is_superuser:
        return
    if not actor.has_role(*MERGE_ROLES):
        raise not_permitted(
            _(
                "企業等の統合は、組織管理者・コーディネーターまたはシステム管理者だけが行えます。"
            )
        )
    # Merged companies included: the merge itself answers 409 for those.
    workable = Company.objects.filter(
        _working_with_company_q(actor), pk__in=[source.pk, target.pk]
    )
    if workable.count() != len({source.pk, target.pk}):
        raise not_permitted(
            _(
                "統合できるのは、統合する両方の企業等を担当している組織だけです"
                "（それ以外はシステム管理者に依頼してください）。"
            )
        )


# --- personal data (APPI): DESIGN.md "Personal data over time" -------------------

# Who sets or lifts a legal hold (法的保全) on a case of their organisation.
LEGAL_HOLD_ROLES = (Role.MANAGER, Role.ORG_ADMIN)


def is_org_admin(actor: Actor) -> bool:
    """Return True for an org admin acting for their organisation (or a superuser)."""
    return actor.is_superuser or actor.role == Role.ORG_ADMIN


def org_admin_require(actor: Actor, detail: str) -> None:
    """Refuse with 403 `org_admin_only` unless an org admin acts for an organisation."""
    if not is_org_admin(actor) or actor.organisation is None:
        raise PermissionDenied(detail, code="org_admin_only")


def retention_policy_require_manageable(actor: Actor) -> None:
    """Refuse with 403 unless the actor may see and set its 保存期間."""
    org_admin_require(actor, _("保存期間を設定できるのは組織管理者だけです。"))


def survey_settings_require_manageable(actor: Actor) -> None:
    """Refuse with 403 `not_permitted` unless the actor is an org admin."""
    actor.require_membership()
    if actor.role != Role.ORG_ADMIN:
        raise not_permitted(_("満足度調査の設定を扱えるのは組織管理者だけです。"))


def can_answer_person_requests(actor: Actor, contact: Contact) -> bool:
    """Return True when the actor may produce the disclosure package of contact.

    Org admins (whichever organisation recorded the contact, as long as they
    see it: the package holds only what their organisation may see).
    """
    return is_org_admin(actor)


def contact_require_disclosable(actor: Actor, contact: Contact) -> None:
    """Refuse with 403 unless the actor may answer a 開示請求 about contact."""
    if not can_answer_person_requests(actor, contact):
        raise not_permitted(_("開示請求への対応は組織管理者が行います。"))


def can_erase_contact(actor: Actor, contact: Contact) -> bool:
    """Return True for an org admin of the contact's recording organisation."""
    return actor.is_superuser or (
        actor.role == Role.ORG_ADMIN
        and contact.organisation_id == actor.organisation_id
    )


def contact_require_erasable(actor: Actor, contact: Contact) -> None:
    """Refuse with 403 unless the actor may stop use of / erase contact (art. 35)."""
    if not can_erase_contact(actor, contact):
        raise not_permitted(
            _("利用停止・消去ができるのは、担当者を登録した組織の組織管理者だけです。")
        )


def can_hold_case(actor: Actor, case: Case) -> bool:
    """Return True when the actor may set or lift the case's legal hold."""
    return actor.is_superuser or (
        actor.role in LEGAL_HOLD_ROLES and case.organisation_id == actor.organisation_id
    )


def case_require_holdable(actor: Actor, case: Case) -> None:
    """Refuse with 403 unless the actor may set or lift the legal hold."""
    if not can_hold_case(actor, case):
        raise not_permitted(
            _("法的保全を設定できるのは、案件を担当する組織の管理者・組織管理者です。")
        )


def is_event_host(actor: Actor, event: Event) -> bool:
    """Return True when the actor's organisation hosts or co-hosts event."""
    if actor.is_superuser and actor.membership is None:
        return True
    if actor.organisation_id is None:
        return False
    return event.organisation_id == actor.organisation_id or (
        event.cohosts.filter(pk=actor.organisation_id).exists()
    )


def can_edit_event(actor: Actor, event: Event) -> bool:
    """Return True when the actor may change the event itself (rule 5)."""
    if actor.is_superuser and actor.membership is None:
        return True
    return event.organisation_id == actor.organisation_id and not actor.is_expert


def event_require_editable(actor: Actor, event: Event) -> None:
    if not can_edit_event(actor, event):
        raise not_permitted(_("イベントを変更できるのは主催組織の職員だけです。"))


def can_keep_attendance(actor: Actor, event: Event) -> bool:
    """Return True when the actor keeps the event's registrations (rule 5)."""
    return is_event_host(actor, event) and not actor.is_expert


def event_require_attendance_keeper(actor: Actor, event: Event) -> None:
    if not can_keep_attendance(actor, event):
        raise not_permitted(
            _("参加者の出欠を記録できるのは主催・共催組織の職員だけです。")
        )


def event_require_registrar(actor: Actor) -> None:
    """Refuse a registration by an expert or by an actor without an organisation."""
    if actor.is_superuser and actor.membership is None:
        return
    actor.require_membership()
    if actor.is_expert:
        raise not_permitted(_("専門家はイベントの参加登録ができません。"))
# Roles that bring an organisation's history in (DESIGN.md "Bringing history in").
IMPORT_ROLES = MANAGING_ROLES


def can_import(actor: Actor) -> bool:
    """Return whether the actor may import 相談記録 for their organisation."""
    return actor.membership is not None and actor.has_role(*IMPORT_ROLES)


def import_require_permitted(actor: Actor) -> None:
    """Refuse imports to anyone but coordinators, managers and org admins (403)."""
    actor.require_membership()
    if not can_import(actor):
        raise not_permitted(
            _("相談記録の取込は、コーディネーター・管理者・組織管理者のみが行えます。")
        )
