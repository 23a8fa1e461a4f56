"""Assigning a case to a member of staff of its organisation (coordinator board).

The assignee decides who sees a confidential case and whose "my work" page
lists it, so only the people who run the organisation's work assign, every
change is audited, and the new assignee is told.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import Case
from crm.permissions import case_require_manageable
from crm.services.audit import audit_record
from crm.services.notifications import notify
from support_network.actors import Actor
from support_network.errors import ValidationFailed
from support_network.people import person_name
from support_network.selectors import active_members


def is_active_member(user_id: int | None, organisation_id: int) -> bool:
    """Return True when the user is an active member of the organisation."""
    return active_members([organisation_id]).filter(user_id=user_id).exists()


@transaction.atomic
def case_assign(
    *, actor: Actor, case: Case, assignee, now: datetime | None = None
) -> Case:
    """Assign the case to assignee, an active member of the case's organisation.

    Assigning the current assignee again changes nothing and tells nobody.
    """
    actor.require_membership()
    now = now or timezone.now()
    case_require_manageable(
        actor,
        case,
        _(
            "案件を担当する組織のコーディネーター・管理者・組織管理者だけが"
            "担当者を割り当てられます。"
        ),
    )
    case = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
    if not is_active_member(getattr(assignee, "pk", None), case.organisation_id):
        raise ValidationFailed(
            _("担当者は案件を担当する組織の職員から選んでください。"),
            field="assignee",
        )
    if case.assignee_id == assignee.pk:
        return case
    previous = case.assignee_id
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    audit_record(
        actor=actor,
        action="case.assign",
        obj=case,
        now=now,
        data={"from": previous, "to": assignee.pk},
        changes={"assignee": [previous, assignee.pk]},
    )
    if assignee.pk != actor.user.pk:
        notify(
            recipients=[assignee],
            kind="case.assigned",
            message=_(
                "%(who)s さんが案件「%(title)s」（%(company)s）の担当者にあなたを割り当てました。"
            )
            % {
                "who": person_name(actor.user),
                "title": case.title,
                "company": case.company.name,
            },
            obj=case,
            now=now,
        )
    return case
