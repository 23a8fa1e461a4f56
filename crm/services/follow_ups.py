"""Follow-ups (フォローアップ): completing one, which stops its reminders.

A follow-up is set with its consultation (`consultation_create`'s
`follow_up_on`) and edited by crm/services/corrections.py; its reminders
and escalations are crm/services/reminder_follow_ups.py.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import FollowUpStatus
from crm.models import FollowUp
from crm.permissions import record_require_changeable
from crm.selectors.visibility import follow_ups_visible_to
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.errors import Conflict, NotVisible

# How far ahead a follow-up may be set: a yearly review 「1年後の確認」 set a
# few days late must fit, so five years (a patent's examination request).
MAX_FOLLOW_UP_DAYS = 5 * 366


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
