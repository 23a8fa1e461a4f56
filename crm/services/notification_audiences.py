"""Who is told of a notification, and what a confidential one says (issue 26).

- every recipient must be able to open the notification's object: before a
  row is written, `notify_many` drops the recipients whose actor (any of
  their active memberships) does not see it through the visibility
  selector registered for its object type (`notification_audience_register`:
  follow-ups, referrals, cases, enrolments, digests), so nobody is told of
  what does not exist for them (DESIGN.md "Who sees what" rule 5);
- a notification about a confidential case (rule 4) never carries the
  company's name, the case's title or any free text (notes, consultation or
  outcome text): whatever the caller wrote, its text is replaced by a
  neutral one naming only the case number, the due date, the organisations
  and the member in charge (`CONFIDENTIAL_MESSAGES`, `safe_message`).
  In-app and e-mail alike: the recipients who may see the case open it in
  the CRM.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Case, FollowUp, Referral
from crm.services.notification_emails import SUBJECTS
from support_network.actors import Actor
from support_network.calendar import date_text
from support_network.choices import Role
from support_network.models import Membership
from support_network.people import person_name
from support_network.selectors import active_memberships

if TYPE_CHECKING:
    from crm.services.notifications import NotificationItem

# The logger keeps the name it had before notifications were split into
# modules: operators filter on it (docs/operations.md "Logs").
logger = logging.getLogger("crm.services.notifications")


# --- who may be told: the visibility of the object -----------------------------


@dataclass(frozen=True)
class Audience:
    """How to check that a recipient may open objects of one type.

    `selector(actor)` is the visibility selector of the type (the one the
    API and the web use); `case_of(obj)` the case the object belongs to (for
    the confidential rule of the text); `sure(membership, obj)` an optional
    shortcut returning True only where the selector certainly admits the
    membership (it saves a query per recipient in the 100k-reminder sweep);
    False means "ask the selector".
    """

    selector: Callable[[Actor], Any]
    case_of: Callable[[Any], Case | None] = lambda obj: None
    sure: Callable[[Membership, Any], bool] | None = None


AUDIENCES: dict[str, Audience] = {}


def notification_audience_register(
    object_type: str,
    selector: Callable[[Actor], Any],
    *,
    case_of: Callable[[Any], Case | None] | None = None,
    sure: Callable[[Membership, Any], bool] | None = None,
) -> None:
    """Let notifications about `object_type` go only to who `selector` admits."""
    AUDIENCES[object_type] = Audience(
        selector=selector, case_of=case_of or (lambda obj: None), sure=sure
    )


def sees_own_case(membership: Membership, case: Case | None) -> bool:
    """Return True where the own-organisation case rule surely admits membership.

    The same rule as crm.selectors._own_case_q (DESIGN.md rules 3–4): the
    assignee; managers and org admins; other non-expert staff on a case that
    is not confidential. False means only "not through this rule".
    """
    if case is None or membership.organisation_id != case.organisation_id:
        return False
    if case.assignee_id == membership.user_id:
        return True
    if membership.role == Role.EXPERT:
        return False
    if membership.role in (Role.MANAGER, Role.ORG_ADMIN):
        return True
    return not case.is_confidential


def _referral_sure(membership: Membership, referral: Referral) -> bool:
    # A party to the referral sees its record (referral_records_visible_to).
    if membership.organisation_id == referral.to_organisation_id:
        return True
    if (
        membership.organisation_id == referral.from_organisation_id
        and referral.sent_by_id == membership.user_id
    ):
        return True
    return sees_own_case(membership, referral.case)


def _register_crm_audiences() -> None:
    from crm.selectors.visibility import (
        cases_visible_to,
        follow_ups_visible_to,
        referral_records_visible_to,
    )

    notification_audience_register(
        "case",
        cases_visible_to,
        case_of=lambda case: case,
        sure=sees_own_case,
    )
    notification_audience_register(
        "followup",
        follow_ups_visible_to,
        case_of=lambda f: f.case,
        sure=lambda m, f: sees_own_case(m, f.case),
    )
    notification_audience_register(
        "referral",
        referral_records_visible_to,
        case_of=lambda r: r.case,
        sure=_referral_sure,
    )
    # The weekly digest is about the coordinator's own membership; its text
    # is built from the visibility selectors (crm/services/digest.py).
    notification_audience_register(
        "membership",
        lambda actor: Membership.objects.filter(user_id=actor.user.pk),
        sure=lambda m, membership: m.user_id == membership.user_id,
    )


_register_crm_audiences()


def _memberships_of(user_ids: set[int]) -> dict[int, list[Membership]]:
    """Return the active memberships of these users: ids and role only.

    The shortcut (`Audience.sure`) needs no more; the few memberships it
    leaves undecided get their user and organisation in `_actors_of` (at
    100k reminders, building a user and an organisation per row costs
    seconds).
    """
    found: dict[int, list[Membership]] = {}
    for m in (
        active_memberships()
        .filter(user_id__in=user_ids)
        .only("pk", "user_id", "organisation_id", "role")
        .order_by("pk")
    ):
        found.setdefault(m.user_id, []).append(m)
    return found


def _actors_of(membership_ids: set[int]) -> dict[int, Actor]:
    if not membership_ids:
        return {}
    return {
        m.pk: Actor(user=m.user, membership=m)
        for m in Membership.objects.filter(pk__in=membership_ids).select_related(
            "user", "organisation"
        )
    }


def recipients_who_may_see(
    pairs: Iterable[tuple[Any, Iterable[Any]]],
) -> list[list[Any]]:
    """For each (object, users), return the users who may open the object.

    A user may open it when one of their active memberships (or, for a
    superuser, their account) is admitted by the visibility selector of the
    object's type. Set-based: one query for the memberships of everyone,
    then one selector query per membership the shortcut (`Audience.sure`)
    could not decide, over all of that membership's objects at once.
    Objects of a type without a registered audience keep their recipients.
    """
    pairs = [(obj, [u for u in users if u is not None]) for obj, users in pairs]
    typed = [
        (obj, users, AUDIENCES.get(obj._meta.model_name) if obj is not None else None)
        for obj, users in pairs
    ]
    user_ids = {u.pk for obj, users, audience in typed if audience for u in users}
    if not user_ids:
        return [users for _obj, users in pairs]
    memberships = _memberships_of(user_ids)
    admitted: set[tuple[str, Any, int]] = set()
    undecided: list[tuple[str, Any, Any]] = []
    for obj, users, audience in typed:
        if audience is None:
            continue
        otype = obj._meta.model_name
        for user in users:
            own = memberships.get(user.pk, [])
            if audience.sure is not None and any(audience.sure(m, obj) for m in own):
                admitted.add((otype, obj.pk, user.pk))
            else:
                undecided.append((otype, obj, user))
    superusers: set[int] = set()
    if undecided:
        # From the database, not the user objects: a caller may pass users
        # with deferred fields (the sweep loads only names): a query per row.
        from django.contrib.auth import get_user_model

        superusers = set(
            get_user_model()
            .objects.filter(pk__in={u.pk for _t, _o, u in undecided}, is_superuser=True)
            .values_list("pk", flat=True)
        )
    # (object type, membership or user) → object pks to ask the selector about
    pending: dict[tuple[str, int, bool], set] = {}
    actors: dict[tuple[str, int, bool], Actor] = {}
    for otype, obj, user in undecided:
        own = memberships.get(user.pk, [])
        if user.pk in superusers or not own:
            key = (otype, user.pk, False)
            actors[key] = Actor(user=user)
            pending.setdefault(key, set()).add(obj.pk)
        for m in own:
            pending.setdefault((otype, m.pk, True), set()).add(obj.pk)
    by_membership = _actors_of({key[1] for key in pending if key[2]})
    for key, pks in pending.items():
        otype = key[0]
        actor = actors[key] if not key[2] else by_membership.get(key[1])
        if actor is None:
            continue  # the membership ended meanwhile
        seen = AUDIENCES[otype].selector(actor).filter(pk__in=pks)
        for pk in seen.values_list("pk", flat=True):
            admitted.add((otype, pk, actor.user.pk))
    result = []
    for obj, users, audience in typed:
        if audience is None:
            result.append(users)
            continue
        otype = obj._meta.model_name
        kept = [u for u in users if (otype, obj.pk, u.pk) in admitted]
        dropped = [u.pk for u in users if (otype, obj.pk, u.pk) not in admitted]
        if dropped:
            logger.info(
                "%s %s: not told (may not see it): users %s", otype, obj.pk, dropped
            )
        result.append(kept)
    return result


# --- what a notification about a confidential case says --------------------------

# Neutral texts by kind (DESIGN.md rule 4): no company, no title, no free text.
CONFIDENTIAL_MESSAGES: dict[str, Any] = {
    "follow_up.reminder": gettext_lazy(
        "機密案件（案件 No.%(case)s）のフォローアップの期日（%(due)s）です。"
        "内容は CRM で確認してください。"
    ),
    "follow_up.escalation": gettext_lazy(
        "機密案件（案件 No.%(case)s）のフォローアップが期日（%(due)s）を過ぎても"
        "完了していません（担当: %(assignee)s）。内容は CRM で確認してください。"
    ),
    "case.assigned": gettext_lazy(
        "機密案件（案件 No.%(case)s）の担当者になりました。"
        "内容は CRM で確認してください。"
    ),
}
CONFIDENTIAL_REFERRAL_MESSAGE = gettext_lazy(
    "機密案件（案件 No.%(case)s）の紹介（No.%(referral)s、%(sender)s → "
    "%(receiver)s）: %(event)s。内容は CRM で確認してください。"
)
CONFIDENTIAL_MESSAGE = gettext_lazy(
    "機密案件（案件 No.%(case)s）について: %(event)s。内容は CRM で確認してください。"
)



def _person(user) -> str:
    return person_name(user)


def confidential_message(kind: str, obj: Any, case: Case) -> str:
    """Return the neutral text of a notification of `kind` about a confidential case."""
    event = str(SUBJECTS.get(kind) or _("お知らせ"))
    if isinstance(obj, Referral):
        return str(CONFIDENTIAL_REFERRAL_MESSAGE) % {
            "case": case.pk,
            "referral": obj.pk,
            "sender": obj.from_organisation.name,
            "receiver": obj.to_organisation.name,
            "event": event,
        }
    text = CONFIDENTIAL_MESSAGES.get(kind)
    if text is None:
        return str(CONFIDENTIAL_MESSAGE) % {"case": case.pk, "event": event}
    values = {"case": case.pk, "due": "", "assignee": ""}
    if isinstance(obj, FollowUp):
        values["due"] = date_text(obj.due_on)
        values["assignee"] = _person(obj.assignee)
    return str(text) % values


def safe_message(kind: str, item: NotificationItem) -> str:
    """Return the item's text, or the neutral one when its case is confidential."""
    obj = item.obj
    if obj is None:
        return item.message
    audience = AUDIENCES.get(obj._meta.model_name)
    case = audience.case_of(obj) if audience is not None else None
    if case is not None and case.is_confidential:
        return confidential_message(kind, obj, case)
    return item.message
