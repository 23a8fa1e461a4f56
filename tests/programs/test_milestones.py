"""Program milestones in the reminder sweep, with a frozen clock (issue 5 "Rules").

programs/reminders.py plugs four sources into crm's sweep (crm never imports
programs): IPAS ends in 2 weeks, iAca period review due, day quota at 80 %
(iNat: 72 of 90 days a fiscal year), support plan missing 2 weeks after
support started. Each walk sweeps on both sides of the boundary and twice,
and checks who is told: coordinators and managers of the operator (INPIT)
and of the applying organisation, each person once.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection

from crm.models import AuditEvent, Notification
from crm.services.reminders import REMINDER_SOURCES, reminders_sweep
from programs.models import Enrolment, SupportDay
from support_network.calendar import JST, fiscal_year
from support_network.models import Organisation
from tests.conftest import make_actor
from tests.programs.factories import (
    EnrolmentFactory,
    ProgramRoundFactory,
    SupportPlanFactory,
    program,
)

APPLICANT = "inpit-window-13"


def jst(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def sweep(moment: datetime) -> dict:
    """Sweep at moment; return only the program counts."""
    counts = reminders_sweep(now=moment).as_dict()
    return {k: v for k, v in counts.items() if k.startswith("program")}


def with_email(actor):
    actor.user.email = f"{actor.user.username}@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor


@pytest.fixture
def people(network):
    both = with_email(make_actor("inpit", "coordinator", "ms-both"))
    make_actor(APPLICANT, "coordinator", "ms-both")  # the same person, twice
    return {
        "operator_coordinator": with_email(
            make_actor("inpit", "coordinator", "ms-inpit-coord")
        ),
        "operator_manager": with_email(make_actor("inpit", "manager", "ms-inpit-mgr")),
        "applicant_coordinator": with_email(
            make_actor(APPLICANT, "coordinator", "ms-app-coord")
        ),
        "both": both,
        "applicant_staff": with_email(
            make_actor(APPLICANT, "window_staff", "ms-app-staff")
        ),
        "bystander": with_email(make_actor("inpit-window-14", "manager", "ms-other")),
    }


def told(kind: str) -> list[str]:
    return sorted(
        Notification.objects.filter(kind=kind).values_list(
            "recipient__username", flat=True
        )
    )


TOLD = ["ms-app-coord", "ms-both", "ms-inpit-coord", "ms-inpit-mgr"]


def active(code: str, started_on: date, ends_on: date | None, **kwargs) -> Enrolment:
    round_ = ProgramRoundFactory(program=program(code), fiscal_year=2026)
    return EnrolmentFactory(
        round=round_,
        started_on=started_on,
        ends_on=ends_on,
        **{"status": "active", **kwargs},
    )


def test_milestones_are_plugged_in_by_the_programs_app():
    assert {
        "programs.ipas_end",
        "programs.period_review",
        "programs.day_quota",
        "programs.plan_missing",
    } <= set(REMINDER_SOURCES)


# --- IPAS ends in 2 weeks -------------------------------------------------------------


def test_ipas_end_is_told_once_two_weeks_ahead_to_both_sides(
    people, django_capture_on_commit_callbacks
):
    e = active("ipas", date(2026, 1, 12), date(2026, 6, 12))  # ends Friday 6/12

    assert sweep(jst(2026, 5, 28, 9)) == {}  # 15 days ahead
    assert sweep(jst(2026, 5, 29, 8, 59)) == {}  # before the send time
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep(jst(2026, 5, 29, 9)) == {"program.ipas_end": 1}  # 14 days
    assert sweep(jst(2026, 5, 29, 15)) == {}
    assert sweep(jst(2026, 6, 1, 9)) == {}
    assert sweep(jst(2026, 6, 11, 9)) == {}

    assert told("program.ipas_end") == TOLD
    n = Notification.objects.filter(kind="program.ipas_end").first()
    assert (n.object_type, n.object_id) == ("enrolment", str(e.pk))
    assert "IPASの支援が2026/6/12に終了します（あと14日）" in n.message
    assert e.company.name in n.message
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"{u}@example.invalid" for u in TOLD
    ]
    assert (
        mail.outbox[0].subject == "[知財経営支援 CRM] IPAS の支援終了が近づいています"
    )
    assert f"http://127.0.0.1:8000/enrolments/{e.pk}/" in mail.outbox[0].body
    # Recorded on the enrolment's trail, for the applying organisation.
    marker = AuditEvent.objects.get(action="reminder.ipas_end")
    assert (marker.object_id, marker.organisation.code) == (str(e.pk), APPLICANT)


def test_an_enrolment_that_is_not_active_or_already_over_is_not_told(people):
    active("ipas", date(2026, 1, 12), date(2026, 6, 12), status="completed")
    active("ipas", date(2026, 1, 12), date(2026, 5, 28))  # ended yesterday
    assert sweep(jst(2026, 5, 29, 9)) == {}


def test_the_applying_organisations_rules_set_the_notice(people):
    org = Organisation.objects.get(code=APPLICANT)
    org.reminder_rules = {"PROGRAM_END_NOTICE_DAYS": 7}
    org.save()
    active("ipas", date(2026, 1, 12), date(2026, 6, 12))

    assert sweep(jst(2026, 5, 29, 9)) == {}
    assert sweep(jst(2026, 6, 4, 9)) == {}  # 8 days ahead
    assert sweep(jst(2026, 6, 5, 9)) == {"program.ipas_end": 1}


# --- iAca period review -----------------------------------------------------------------


def test_iaca_period_review_is_due_once_per_period(people):
    # Period 1 ends Monday 6/1; the review notice is 30 days ahead (5/2, a
    # Saturday in Golden Week), so it goes out on the next business day.
    e = active("iaca", date(2025, 8, 1), date(2026, 6, 1), scheme="1")
    SupportPlanFactory(enrolment=e)

    assert sweep(jst(2026, 5, 1, 9)) == {}  # 31 days ahead
    assert sweep(jst(2026, 5, 7, 9)) == {"program.period_review": 1}
    assert sweep(jst(2026, 5, 8, 9)) == {}
    assert told("program.period_review") == TOLD
    message = Notification.objects.filter(kind="program.period_review").first().message
    assert "iAcaの第1期の支援期間が2026/6/1に終わります" in message
    assert "継続には支援計画の達成が必要です" in message

    # Continued into period 2 (enrolment_continue sets period and dates).
    Enrolment.objects.filter(pk=e.pk).update(
        period=2, started_on=date(2026, 6, 1), ends_on=date(2027, 4, 1)
    )
    SupportPlanFactory(enrolment=Enrolment.objects.get(pk=e.pk))
    assert sweep(jst(2026, 6, 2, 9)) == {}
    assert sweep(jst(2027, 3, 1, 9)) == {}  # 31 days ahead
    assert sweep(jst(2027, 3, 2, 9)) == {"program.period_review": 1}
    assert sweep(jst(2027, 3, 3, 9)) == {}
    assert Notification.objects.filter(kind="program.period_review").count() == 8


def test_a_missed_review_is_still_told_late(people):
    e = active("iaca", date(2025, 6, 2), date(2026, 4, 2), scheme="1")
    SupportPlanFactory(enrolment=e)
    assert sweep(jst(2026, 4, 6, 9)) == {"program.period_review": 1}
    message = Notification.objects.filter(kind="program.period_review").first().message
    assert "2026/4/2に終わりました" in message


# --- iNat days at 80 % of 90 ---------------------------------------------------------


def log_days(enrolment: Enrolment, first: date, n: int, logged_by) -> None:
    SupportDay.objects.bulk_create(
        SupportDay(
            enrolment=enrolment,
            date=first + timedelta(days=i),
            fiscal_year=fiscal_year(first + timedelta(days=i)),
            period=enrolment.period,
            days=Decimal("1.0"),
            logged_by=logged_by,
        )
        for i in range(n)
    )
    Enrolment.objects.filter(pk=enrolment.pk).update(days_used=enrolment.days_used + n)
    enrolment.refresh_from_db()


def test_inat_days_reaching_80_percent_of_90_are_told_once_per_fiscal_year(people):
    staff = people["applicant_staff"].user
    e = active("inat", date(2026, 4, 1), date(2027, 3, 31), scheme="1")
    SupportPlanFactory(enrolment=e)

    log_days(e, date(2026, 4, 1), 71, staff)
    assert sweep(jst(2026, 7, 1, 9)) == {}  # 71 of 90: below 72
    log_days(e, date(2026, 6, 11), 1, staff)
    assert sweep(jst(2026, 7, 2, 9)) == {"program.day_quota": 1}  # 72 = 80 %
    log_days(e, date(2026, 6, 12), 5, staff)
    assert sweep(jst(2026, 7, 3, 9)) == {}
    assert told("program.day_quota") == TOLD
    message = Notification.objects.filter(kind="program.day_quota").first().message
    assert "iNatの支援日数が2026年度（令和8年度）の上限90日の80%に達しました" in message
    assert "使用72日、残り18日" in message

    # A new fiscal year starts from zero, and is told again at 72 days.
    log_days(e, date(2027, 4, 1), 72, staff)
    assert sweep(jst(2027, 3, 31, 9)) == {}  # still FY2026 on 3/31
    assert sweep(jst(2027, 7, 1, 9)) == {"program.day_quota": 1}
    assert sweep(jst(2027, 7, 2, 9)) == {}


# --- support plan missing ------------------------------------------------------------


def test_a_missing_support_plan_is_told_two_weeks_after_support_started(people):
    e = active("iaca", date(2026, 4, 13), date(2027, 2, 13), scheme="1")
    planned = active("iaca", date(2026, 4, 13), date(2027, 2, 13), scheme="2")
    SupportPlanFactory(enrolment=planned)
    active("ipas", date(2026, 4, 13), date(2026, 9, 13))  # IPAS needs no plan

    assert sweep(jst(2026, 4, 24, 9)) == {}  # 11 days
    assert sweep(jst(2026, 4, 27, 9)) == {"program.plan_missing": 1}  # 14 days
    assert sweep(jst(2026, 4, 28, 9)) == {}
    assert told("program.plan_missing") == TOLD
    n = Notification.objects.get(
        kind="program.plan_missing", recipient__username="ms-both"
    )
    assert n.object_id == str(e.pk)
    assert (
        "支援開始（2026/4/13）から14日が過ぎましたが、第1期の支援計画" in n.message
    )


# --- exactly once with two sweepers -----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_tell_each_milestone_once(people):
    enrolments = [
        active("ipas", date(2026, 1, 12), date(2026, 6, 12)) for _ in range(12)
    ]
    moment = jst(2026, 5, 29, 9)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders_sweep(now=moment, batch_size=5).as_dict())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r.get("program.ipas_end", 0) for r in results) == len(enrolments)
    assert Notification.objects.filter(kind="program.ipas_end").count() == 4 * len(
        enrolments
    )
    assert AuditEvent.objects.filter(action="reminder.ipas_end").count() == len(
        enrolments
    )
