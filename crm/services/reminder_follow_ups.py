"""The follow-up sources of the reminder sweep: reminders, then escalation.

An open follow-up due by today reminds its assignee once per business day
(at the send time, up to FOLLOW_UP_MAX_REMINDERS times); one still open a
business day after the last reminder is escalated to its organisation's
FOLLOW_UP_ESCALATE_ROLES who may see it (its org admins when none may).
Rows are claimed as crm/services/reminders.py describes.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import F, Q
from django.utils.translation import gettext as _

from crm.choices import FollowUpStatus
from crm.models import FollowUp
from crm.services.notification_audiences import recipients_who_may_see
from crm.services.reminder_batches import (
    Contended,
    SweepResult,
    claim_batches,
    members,
    reminders_record,
)
from support_network.calendar import date_text
from support_network.choices import Role
from support_network.people import person_name


def follow_up_reminders(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Remind assignees of open follow-ups due by `day`, once per business day."""
    max_reminders = int(rules["FOLLOW_UP_MAX_REMINDERS"])
    due = FollowUp.objects.filter(
        scope,
        Q(last_reminded_on__isnull=True) | Q(last_reminded_on__lt=day),
        status=FollowUpStatus.OPEN,
        due_on__lte=day,
        escalated_at__isnull=True,
        reminded_count__lt=max_reminders,
    )

    def process(batch: list[FollowUp]) -> None:
        # Counts differ per row, so the UPDATE re-checks the selection and
        # increments with F(); it must touch every locked row.
        updated = due.filter(pk__in=[f.pk for f in batch]).update(
            reminded_count=F("reminded_count") + 1,
            last_reminded_on=day,
            updated_at=now,
        )
        if updated != len(batch):
            raise Contended
        items = []
        for f in batch:
            n = f.reminded_count + 1
            if f.due_on >= day:
                text = _("本日が期日のフォローアップがあります: %(case)s %(note)s")
            else:
                text = _(
                    "期日（%(due)s）を過ぎたフォローアップがあります"
                    "（%(n)s回目のお知らせ）: %(case)s %(note)s"
                )
            message = text % {
                "case": f.case.title,
                "note": f.note,
                "due": date_text(f.due_on),
                "n": n,
            }
            items.append(
                (f"followup:{f.pk}:remind:{day.isoformat()}", [f.assignee], message, f)
            )
        reminders_record(items, kind="follow_up.reminder", now=now)
        result.counts["follow_up.reminder"] += len(batch)

    # Only the columns the message and the notification need: a full User
    # and Case per row are costly to fetch and build at 100k rows.
    claim_batches(
        due.select_related("case", "assignee").only(
            "case__title",
            # who may see it (notification_audiences.sees_own_case) and whether the
            # text must stay neutral (a confidential case)
            "case__organisation",
            "case__assignee",
            "case__is_confidential",
            "assignee__id",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
            "due_on",
            "note",
            "reminded_count",
        ),
        batch_size=batch_size,
        process=process,
        label="follow_up.reminder",
    )


def follow_up_escalations(
    now: datetime,
    day: date,
    rules: dict,
    batch_size: int,
    result: SweepResult,
    scope: Q = Q(),  # noqa: B008 (Q() is immutable here)
) -> None:
    """Escalate follow-ups still open a business day after the last reminder."""
    due = FollowUp.objects.filter(
        scope,
        status=FollowUpStatus.OPEN,
        due_on__lte=day,
        escalated_at__isnull=True,
        reminded_count__gte=int(rules["FOLLOW_UP_MAX_REMINDERS"]),
        last_reminded_on__lt=day,
    )
    roles = rules["FOLLOW_UP_ESCALATE_ROLES"]

    def process(batch: list[FollowUp]) -> None:
        updated = due.filter(pk__in=[f.pk for f in batch]).update(
            escalated_at=now, updated_at=now
        )
        if updated != len(batch):
            raise Contended
        leads = members({f.organisation_id for f in batch}, roles)
        fallback = members({f.organisation_id for f in batch}, [Role.ORG_ADMIN])
        # Only leads who may see the follow-up (issue 26): on a confidential
        # case that is its managers (and a coordinator assigned to the case),
        # never the other coordinators; the org admins when none of them may.
        seen_by_leads = recipients_who_may_see(
            (f, leads.get(f.organisation_id, [])) for f in batch
        )
        seen_by_admins = recipients_who_may_see(
            (f, fallback.get(f.organisation_id, [])) for f in batch
        )
        told = {
            f.pk: lead or admin
            for f, lead, admin in zip(batch, seen_by_leads, seen_by_admins, strict=True)
        }
        items = [
            (
                f"followup:{f.pk}:escalate:{f.due_on.isoformat()}",
                told[f.pk],
                _(
                    "%(assignee)s さんのフォローアップが期日（%(due)s）を過ぎても"
                    "完了していません: %(case)s %(note)s"
                )
                % {
                    "assignee": person_name(f.assignee),
                    "due": date_text(f.due_on),
                    "case": f.case.title,
                    "note": f.note,
                },
                f,
            )
            for f in batch
        ]
        reminders_record(items, kind="follow_up.escalation", now=now)
        result.counts["follow_up.escalation"] += len(batch)

    claim_batches(
        due.select_related("case", "assignee"),
        batch_size=batch_size,
        process=process,
        label="follow_up.escalation",
    )
