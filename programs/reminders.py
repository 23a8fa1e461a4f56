"""Program milestones, plugged into the reminder sweep (issue 5 "Rules").

crm must not import programs, so programs/extensions.py registers these
sources (`MILESTONES`, through `milestone_source`) with crm's
`reminder_source_register`, and their `SUBJECTS`; the sweep
calls each one as `source(now, batch_size=…)` after its own sources. Each
milestone is told once to the coordinators and managers of the program's
operator (e.g. INPIT) and of the applying organisation, deduplicated:

- ``program.ipas_end``: an active IPAS enrolment ends within
  PROGRAM_END_NOTICE_DAYS (14) days; once per enrolment.
- ``program.period_review``: the support period of an active iAca enrolment
  ends within PROGRAM_PERIOD_REVIEW_NOTICE_DAYS (30) days, or has ended: its
  support plan must be reviewed (continuation needs the plan achieved,
  reference/programs.md §4); once per period.
- ``program.day_quota``: the support days reach PROGRAM_DAY_QUOTA_ALERT_PERCENT
  (80 %) of the day quota (iNat: 72 of 90 days in a fiscal year; iAca: of
  the period's 25–30 days); once per enrolment and fiscal year (or period).
- ``program.plan_missing``: PROGRAM_PLAN_MISSING_AFTER_DAYS (14) days after
  support started, a program that requires a support plan has none for the
  current period; once per period.

Thresholds are reminder rules (support_network/reminder_rules.py), taken from the
applying organisation's rules (`reminder_rule_groups`), and milestones go
out like every reminder: at the send time on business days. Exactly once:
the enrolment rows are claimed with SKIP LOCKED; inside the claim a fresh
query drops those whose milestone is already recorded (an AuditEvent
"reminder.<milestone>:<scope>" on the enrolment, written in the same
transaction as the notifications); the notifications' dedupe keys
("enrolment:<id>:<milestone>:<scope>:u<user>") refuse any second row.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import AuditEvent
from crm.services.notifications import NotificationItem, notify_many
from crm.services.reminder_batches import (
    BATCH_SIZE,
    RuleGroup,
    claim_batches,
    members,
    reminder_rule_groups,
)
from programs.choices import EnrolmentStatus, ProgramCode
from programs.models import Enrolment, SupportPlan
from programs.selectors import enrolment_day_quota, program_rule
from programs.text import days_text, program_name
from support_network.calendar import date_text, fiscal_year_label
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.choices import Role

logger = logging.getLogger(__name__)

# Who hears of a milestone, in the operator and in the applying organisation;
# org admins of the applying organisation when neither has one.
RECIPIENT_ROLES = (Role.COORDINATOR, Role.MANAGER)

SUBJECTS = {
    "program.ipas_end": gettext_lazy("IPAS の支援終了が近づいています"),
    "program.period_review": gettext_lazy("支援期の振り返りの時期です"),
    "program.day_quota": gettext_lazy("支援日数が上限に近づいています"),
    "program.plan_missing": gettext_lazy("支援計画が登録されていません"),
}


def enrolment_path(pk: int) -> str:
    """Return the web page of an enrolment (the notifications link to it)."""
    return f"/enrolments/{pk}/"



def _recipients(enrolments: list[Enrolment]) -> dict[int, list]:
    """Return {enrolment id: users to tell}, one query for the whole batch."""
    org_ids = {e.organisation_id for e in enrolments} | {
        e.program.operator_id for e in enrolments
    }
    leads = members(org_ids, RECIPIENT_ROLES)
    admins = members({e.organisation_id for e in enrolments}, [Role.ORG_ADMIN])
    found = {}
    for e in enrolments:
        users = leads.get(e.program.operator_id, []) + leads.get(e.organisation_id, [])
        if not users:
            users = admins.get(e.organisation_id, [])
        found[e.pk] = list({u.pk: u for u in users}.values())
    return found


def _marker_exists(action: Any) -> Exists:
    """Return 'this milestone of the enrolment is recorded' (its AuditEvent)."""
    return Exists(
        AuditEvent.objects.filter(
            object_type="enrolment",
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            action=action,
        )
    )


Message = Callable[[Enrolment], str | None]


def _run(
    *,
    name: str,
    due,
    scope_of: Callable[[Enrolment], str],
    message_of: Message,
    now: datetime,
    batch_size: int,
    counts: Counter,
) -> None:
    """Claim the due enrolments, tell each milestone once, record it.

    `due` already leaves out the enrolments whose marker was recorded before
    the query started; inside the claim (rows locked) a fresh query drops
    those a concurrent sweeper recorded meanwhile.
    """
    kind = f"program.{name}"

    def process(batch: list[Enrolment]) -> None:
        actions = {e.pk: f"reminder.{name}:{scope_of(e)}".rstrip(":") for e in batch}
        done = set(
            AuditEvent.objects.filter(
                object_type="enrolment",
                object_id__in=[str(pk) for pk in actions],
                action__in=set(actions.values()),
            ).values_list("object_id", "action")
        )
        todo = [e for e in batch if (str(e.pk), actions[e.pk]) not in done]
        recipients = _recipients(todo)
        items, markers = [], []
        for e in todo:
            message = message_of(e)
            if message is None:
                continue  # not due after all (e.g. below the quota threshold)
            if not recipients[e.pk]:
                logger.warning("%s enrolment:%s: nobody to tell", kind, e.pk)
                continue
            scope = scope_of(e)
            key = f"enrolment:{e.pk}:{name}" + (f":{scope}" if scope else "")
            items.append(
                NotificationItem(
                    recipients=recipients[e.pk], message=message, obj=e, dedupe_key=key
                )
            )
            markers.append(
                AuditEvent(
                    organisation_id=e.organisation_id,
                    action=actions[e.pk],
                    object_type="enrolment",
                    object_id=str(e.pk),
                    at=now,
                    data={
                        "kind": kind,
                        "recipients": [u.pk for u in recipients[e.pk]],
                    },
                )
            )
            logger.info(
                "%s enrolment:%s → users %s",
                kind,
                e.pk,
                [u.pk for u in recipients[e.pk]],
            )
        if items:
            notify_many(items, kind=kind, now=now)
            AuditEvent.objects.bulk_create(markers)
            counts[kind] += len(items)

    claim_batches(
        due.select_related("program", "company"),
        batch_size=batch_size,
        process=process,
        label=kind,
    )


# --- the milestones -------------------------------------------------------------


def _active(group: RuleGroup):
    return Enrolment.objects.filter(group.scope, status=EnrolmentStatus.ACTIVE)


def ipas_end(
    now: datetime, day: date, group: RuleGroup, batch_size: int, counts: Counter
) -> None:
    """IPAS support ends within PROGRAM_END_NOTICE_DAYS days (once per enrolment)."""
    notice = int(group.rules["PROGRAM_END_NOTICE_DAYS"])
    due = (
        _active(group)
        .filter(
            program__code=ProgramCode.IPAS,
            ends_on__gte=day,
            ends_on__lte=day + timedelta(days=notice),
        )
        .exclude(_marker_exists("reminder.ipas_end"))
    )

    def message(e: Enrolment) -> str:
        return _(
            "%(program)sの支援が%(end)sに終了します（あと%(days)s日）: %(company)s。"
            "終了後の支援の引き継ぎ（知財総合支援窓口など）を確認してください。"
        ) % {
            "program": program_name(e.program),
            "end": date_text(e.ends_on),
            "days": (e.ends_on - day).days,
            "company": e.company.name,
        }

    _run(
        name="ipas_end",
        due=due,
        scope_of=lambda e: "",
        message_of=message,
        now=now,
        batch_size=batch_size,
        counts=counts,
    )


def period_review(
    now: datetime, day: date, group: RuleGroup, batch_size: int, counts: Counter
) -> None:
    """An iAca support period ends within the notice: review its plan (once per period)."""
    notice = int(group.rules["PROGRAM_PERIOD_REVIEW_NOTICE_DAYS"])
    due = (
        _active(group)
        .filter(
            program__code=ProgramCode.IACA,
            ends_on__isnull=False,
            ends_on__lte=day + timedelta(days=notice),
        )
        .exclude(
            _marker_exists(
                Concat(
                    Value("reminder.period_review:p"),
                    Cast(OuterRef("period"), output_field=CharField()),
                )
            )
        )
    )

    def message(e: Enrolment) -> str:
        values = {
            "program": program_name(e.program),
            "period": e.period,
            "end": date_text(e.ends_on),
            "company": e.company.name,
        }
        if e.ends_on < day:
            text = _(
                "%(program)sの第%(period)s期の支援期間は%(end)sに終わりました: "
                "%(company)s。支援計画の達成状況を振り返り、継続するか完了するかを"
                "決めてください（継続には支援計画の達成が必要です）。"
            )
        else:
            text = _(
                "%(program)sの第%(period)s期の支援期間が%(end)sに終わります: "
                "%(company)s。支援計画の達成状況を振り返り、継続するか完了するかを"
                "決めてください（継続には支援計画の達成が必要です）。"
            )
        return text % values

    _run(
        name="period_review",
        due=due,
        scope_of=lambda e: f"p{e.period}",
        message_of=message,
        now=now,
        batch_size=batch_size,
        counts=counts,
    )


def day_quota(
    now: datetime, day: date, group: RuleGroup, batch_size: int, counts: Counter
) -> None:
    """Support days reach the alert share of the quota (once per FY or period).

    The quota is the programs app's own (`enrolment_day_quota`: iNat 90 days
    per fiscal year, iAca 25–30 per period); the share is
    PROGRAM_DAY_QUOTA_ALERT_PERCENT.
    """
    percent = Decimal(int(group.rules["PROGRAM_DAY_QUOTA_ALERT_PERCENT"]))
    quotas: dict[int, Any] = {}

    def quota_of(e: Enrolment):
        if e.pk not in quotas:
            quotas[e.pk] = enrolment_day_quota(e, on=day)
        return quotas[e.pk]

    def scope_of(e: Enrolment) -> str:
        quota = quota_of(e)
        if quota is not None and quota.is_per_fiscal_year:
            return f"fy{quota.fiscal_year}"
        return f"p{e.period}"

    # Only enrolments of programs with a day quota that logged some days;
    # the share is checked per row (the quota may depend on the plan).
    fy_marker = f"reminder.day_quota:fy{fiscal_year_of(day)}"
    due = (
        _active(group)
        .filter(program__rules__has_key="day_quota", days_used__gt=0)
        .exclude(_marker_exists(Value(fy_marker)))
        .exclude(
            _marker_exists(
                Concat(
                    Value("reminder.day_quota:p"),
                    Cast(OuterRef("period"), output_field=CharField()),
                )
            )
        )
    )

    def message(e: Enrolment) -> str | None:
        quota = quota_of(e)
        if quota is None or not quota.limit:
            return None
        if quota.used * 100 < quota.limit * percent:
            return None
        scope = (
            fiscal_year_label(quota.fiscal_year)
            if quota.is_per_fiscal_year
            else _("第%(period)s期") % {"period": quota.period}
        )
        return _(
            "%(program)sの支援日数が%(scope)sの上限%(limit)s日の%(percent)s%%に"
            "達しました（使用%(used)s日、残り%(remaining)s日）: %(company)s。"
            "残りの支援日の使い方を確認してください。"
        ) % {
            "program": program_name(e.program),
            "scope": scope,
            "limit": days_text(quota.limit),
            "percent": percent,
            "used": days_text(quota.used),
            "remaining": days_text(quota.remaining),
            "company": e.company.name,
        }

    _run(
        name="day_quota",
        due=due,
        scope_of=scope_of,
        message_of=message,
        now=now,
        batch_size=batch_size,
        counts=counts,
    )


def plan_missing(
    now: datetime, day: date, group: RuleGroup, batch_size: int, counts: Counter
) -> None:
    """No support plan for the period N days after support started (once per period)."""
    after = int(group.rules["PROGRAM_PLAN_MISSING_AFTER_DAYS"])
    has_plan = Exists(
        SupportPlan.objects.filter(
            enrolment_id=OuterRef("pk"), period=OuterRef("period")
        )
    )
    due = (
        _active(group)
        .filter(started_on__isnull=False, started_on__lte=day - timedelta(days=after))
        # The rule may sit at the top or in a scheme (checked per row below).
        .filter(
            Q(program__rules__requires_support_plan=True)
            | Q(program__rules__has_key="schemes")
        )
        .exclude(has_plan)
        .exclude(
            _marker_exists(
                Concat(
                    Value("reminder.plan_missing:p"),
                    Cast(OuterRef("period"), output_field=CharField()),
                )
            )
        )
    )

    def message(e: Enrolment) -> str | None:
        if not program_rule(e.program, e.scheme, "requires_support_plan", False):
            return None
        return _(
            "%(program)sの支援開始（%(start)s）から%(days)s日が過ぎましたが、"
            "第%(period)s期の支援計画が登録されていません: %(company)s。"
            "支援日を記録するには支援計画が必要です。"
        ) % {
            "program": program_name(e.program),
            "start": date_text(e.started_on),
            "days": (day - e.started_on).days,
            "period": e.period,
            "company": e.company.name,
        }

    _run(
        name="plan_missing",
        due=due,
        scope_of=lambda e: f"p{e.period}",
        message_of=message,
        now=now,
        batch_size=batch_size,
        counts=counts,
    )


MILESTONES = {
    "programs.ipas_end": ipas_end,
    "programs.period_review": period_review,
    "programs.day_quota": day_quota,
    "programs.plan_missing": plan_missing,
}


def milestone_source(milestone) -> Callable[..., Counter]:
    """Return the sweep's source for a milestone: it runs per rule group on its office day."""

    def source(now: datetime, *, batch_size: int = BATCH_SIZE) -> Counter:
        counts: Counter = Counter()
        for group in reminder_rule_groups("organisation_id"):
            day = group.office_day(now)
            if day is not None:
                milestone(now, day, group, batch_size, counts)
        return counts

    source.__name__ = source.__qualname__ = f"{milestone.__name__}_source"
    return source
