"""Support plans and support days of an enrolment, within its day quota.

A plan is drawn up per support period; days are logged in half days, capped
by `rules.day_quota` per period or per fiscal year. The enrolment row is
locked (programs/lock_objects.py), so two loggers cannot both pass the check.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.services.audit import audit_record
from programs.choices import EnrolmentStatus
from programs.lock_objects import enrolment_lock
from programs.models import Enrolment, SupportDay, SupportPlan
from programs.permissions import enrolment_require_support_staff
from programs.selectors import enrolment_day_quota, program_rule, support_days_logged
from programs.text import days_text, program_name
from support_network.actors import Actor
from support_network.calendar import date_text, fiscal_year_short_label
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.errors import Conflict, ValidationFailed

S = EnrolmentStatus


# A support plan is drawn up when support starts (reference/programs.md §4).
PLAN_STATUSES = (S.ACCEPTED, S.ACTIVE)

# Support days are logged in half days: 0.5 or 1 per date.
DAY_STEP = Decimal("0.5")
MAX_DAYS_PER_DATE = Decimal("1")


@transaction.atomic
def support_plan_save(
    *,
    actor: Actor,
    enrolment: Enrolment,
    goals: str,
    achieved: bool | None = None,
    day_quota: int | None = None,
) -> tuple[SupportPlan, bool]:
    """Create or update the support plan of the enrolment's current period.

    Return (plan, created). Plans belong to accepted and active enrolments.
    `day_quota` sets the period's day limit where the program lets it be
    configured (iAca: 25–30 days, `rules.day_quota.min_configurable`); it
    may not fall below the days already logged in the period.
    """
    enrolment = enrolment_lock(enrolment.pk)
    enrolment_require_support_staff(actor, enrolment)
    if enrolment.status not in PLAN_STATUSES:
        raise Conflict(
            _("「%(status)s」の参加には支援計画を登録できません。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    goals = (goals or "").strip()
    if not goals:
        raise ValidationFailed(_("支援計画の目標を入力してください。"), field="goals")
    defaults: dict[str, Any] = {"goals": goals}
    if achieved is not None:
        defaults["is_achieved"] = achieved
    if day_quota is not None:
        defaults["day_quota_days"] = _clean_day_quota(enrolment, day_quota)
    plan, created = SupportPlan.objects.update_or_create(
        enrolment=enrolment, period=enrolment.period, defaults=defaults
    )
    audit_record(
        actor=actor,
        action="support_plan.create" if created else "support_plan.update",
        obj=plan,
        data={"enrolment": enrolment.pk, "period": plan.period},
    )
    return plan, created


def _clean_day_quota(enrolment: Enrolment, day_quota: int) -> int:
    """Check a period's own day quota against the program's rules."""
    program = enrolment.program
    quota = program_rule(program, enrolment.scheme, "day_quota") or {}
    minimum = quota.get("min_configurable")
    if minimum is None or quota.get("per", "period") != "period":
        raise ValidationFailed(
            _("%(program)sでは支援期ごとの日数上限を設定できません。")
            % {"program": program_name(program)},
            field="day_quota",
        )
    maximum = quota["days"]
    if isinstance(day_quota, bool) or not minimum <= day_quota <= maximum:
        raise ValidationFailed(
            _(
                "%(program)sの支援期ごとの日数上限は%(min)s日から%(max)s日の間で"
                "設定してください。"
            )
            % {"program": program_name(program), "min": minimum, "max": maximum},
            field="day_quota",
        )
    used = support_days_logged(enrolment)
    if used > day_quota:
        raise ValidationFailed(
            _(
                "第%(period)s期には既に%(used)s日を記録しているため、"
                "上限を%(limit)s日にはできません。"
            )
            % {
                "period": enrolment.period,
                "used": days_text(used),
                "limit": day_quota,
            },
            field="day_quota",
        )
    return day_quota


def _clean_days(days: Decimal | float | int | str) -> Decimal:
    try:
        value = Decimal(str(days))
    except ArithmeticError:
        value = Decimal(0)
    if not (0 < value <= MAX_DAYS_PER_DATE) or value % DAY_STEP != 0:
        raise ValidationFailed(
            _("支援日数は0.5日または1日で入力してください。"), field="days"
        )
    return value


@transaction.atomic
def support_days_log(
    *,
    actor: Actor,
    enrolment: Enrolment,
    date: date,
    days: Decimal | float | int | str,
    note: str = "",
    today: date | None = None,
) -> SupportDay:
    """Log days of expert support on a date, within the program's day quota.

    Only active enrolments take support days (409 enrolment_not_active
    otherwise). Programs with `requires_support_plan` need the current
    period's plan first (400 plan_required). `rules.day_quota` caps the days
    per support period or per fiscal year of date (400 quota_exceeded); the
    enrolment row is locked, so two loggers cannot both pass the check.
    """
    today = today or timezone.localdate()
    days = _clean_days(days)
    enrolment = enrolment_lock(enrolment.pk)
    program = enrolment.program
    enrolment_require_support_staff(actor, enrolment)
    if enrolment.status != S.ACTIVE:
        raise Conflict(
            _("支援日を記録できるのは支援中の参加だけです（現在: %(status)s）。")
            % {"status": enrolment.get_status_display()},
            code="enrolment_not_active",
            current_status=enrolment.status,
        )
    if enrolment.started_on and date < enrolment.started_on:
        raise ValidationFailed(
            _("支援開始日（%(start)s）より前の日付は記録できません。")
            % {"start": date_text(enrolment.started_on)},
            field="date",
        )
    if date > today:
        raise ValidationFailed(_("未来の日付は記録できません。"), field="date")
    if (
        program_rule(program, enrolment.scheme, "requires_support_plan", False)
        and not (
            SupportPlan.objects.filter(enrolment=enrolment, period=enrolment.period)
        ).exists()
    ):
        raise ValidationFailed(
            _(
                "%(program)sでは、支援日を記録する前に第%(period)s期の支援計画を登録してください。"
            )
            % {"program": program_name(program), "period": enrolment.period},
            code="plan_required",
        )

    fy = fiscal_year_of(date)
    quota = enrolment_day_quota(enrolment, on=date)
    if quota is not None and days > quota.remaining:
        if quota.is_per_fiscal_year:
            per, scope = _("年度ごとに"), fiscal_year_short_label(fy)
        else:
            per = _("支援期ごとに")
            scope = _("第%(period)s期") % {"period": enrolment.period}
        if quota.configured:
            per = _("この期の支援計画で") + per
        raise ValidationFailed(
            _(
                "%(program)sの支援日数の上限は%(per)s%(limit)s日です。"
                "%(scope)sの残りは%(remaining)s日のため、%(days)s日は記録できません。"
            )
            % {
                "program": program_name(program),
                "per": per,
                "limit": days_text(quota.limit),
                "scope": scope,
                "remaining": days_text(quota.remaining),
                "days": days_text(days),
            },
            code="quota_exceeded",
            remaining_days=float(quota.remaining),
        )

    support_day = SupportDay.objects.create(
        enrolment=enrolment,
        date=date,
        fiscal_year=fy,
        period=enrolment.period,
        days=days,
        note=note or "",
        logged_by=actor.user,
    )
    Enrolment.objects.filter(pk=enrolment.pk).update(
        days_used=F("days_used") + days, updated_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action="support_day.log",
        obj=support_day,
        data={"enrolment": enrolment.pk, "days": str(days)},
    )
    return support_day
