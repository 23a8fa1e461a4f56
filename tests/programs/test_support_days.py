"""Support plans and support days: plan first, day quotas, half-day steps, who logs."""

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from programs.models import Enrolment, SupportDay, SupportPlan, TeamMember
from programs.services import support_days as support_days_services
from programs.services.support_days import support_days_log, support_plan_save
from support_network.errors import (
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from tests.conftest import make_actor
from tests.programs.factories import (
    EnrolmentFactory,
    ProgramRoundFactory,
    SupportDayFactory,
    SupportPlanFactory,
    program,
)

STARTED = dt.date(2026, 5, 1)


@pytest.fixture
def coordinator(network):
    return make_actor("inpit", "coordinator")


def active_enrolment(code, *, scheme="1", with_plan=True, started_on=STARTED):
    round_ = ProgramRoundFactory(program=program(code))
    enrolment = EnrolmentFactory(
        round=round_, scheme=scheme, status="active", started_on=started_on
    )
    if with_plan:
        SupportPlanFactory(enrolment=enrolment)
    return enrolment


def log_history(enrolment, *, whole_days, half_day=False, on=dt.date(2026, 6, 1)):
    """Record whole_days (+ 0.5) of past support on one date."""
    for _ in range(whole_days):
        SupportDayFactory(enrolment=enrolment, date=on, days=Decimal("1.0"))
    if half_day:
        SupportDayFactory(enrolment=enrolment, date=on, days=Decimal("0.5"))
    total = Decimal(whole_days) + (Decimal("0.5") if half_day else 0)
    Enrolment.objects.filter(pk=enrolment.pk).update(days_used=total)


def log(actor, enrolment, days, *, on=dt.date(2026, 11, 20), today=None):
    return support_days_log(
        actor=actor,
        enrolment=enrolment,
        date=on,
        days=days,
        note="出口戦略の打合せ",
        today=today or dt.date(2026, 11, 21),
    )


# --- iAca: at most 30 days per support period ----------------------------------------


def test_iaca_takes_the_last_half_day_of_its_30_day_period_quota(coordinator):
    enrolment = active_enrolment("iaca")
    log_history(enrolment, whole_days=29, half_day=True)

    support_day = log(coordinator, enrolment, "0.5")

    assert (support_day.days, support_day.period) == (Decimal("0.5"), 1)
    assert support_day.fiscal_year == 2026
    assert support_day.logged_by == coordinator.user
    enrolment.refresh_from_db()
    assert enrolment.days_used == Decimal("30.0")


def test_iaca_refuses_a_half_day_past_its_30_day_period_quota(coordinator):
    enrolment = active_enrolment("iaca")
    log_history(enrolment, whole_days=30)

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, "0.5")

    assert caught.value.code == "quota_exceeded"
    assert caught.value.detail == (
        "iAcaの支援日数の上限は支援期ごとに30日です。"
        "第1期の残りは0日のため、0.5日は記録できません。"
    )
    assert caught.value.extra == {"remaining_days": 0.0}
    assert SupportDay.objects.filter(enrolment=enrolment).count() == 30
    enrolment.refresh_from_db()
    assert enrolment.days_used == Decimal("30.0")


def test_iaca_refuses_a_whole_day_when_half_a_day_is_left(coordinator):
    enrolment = active_enrolment("iaca")
    log_history(enrolment, whole_days=29, half_day=True)

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, "1")

    assert caught.value.code == "quota_exceeded"
    assert "残りは0.5日のため、1日は記録できません。" in caught.value.detail


def test_iaca_days_of_an_earlier_period_do_not_count(coordinator):
    enrolment = active_enrolment("iaca", with_plan=False)
    log_history(enrolment, whole_days=30)
    Enrolment.objects.filter(pk=enrolment.pk).update(period=2)
    enrolment.refresh_from_db()
    SupportPlanFactory(enrolment=enrolment, period=2)

    support_day = log(coordinator, enrolment, "1")

    assert support_day.period == 2


# --- iNat: at most 90 days per fiscal year ------------------------------------------


def test_inat_takes_its_90th_day_on_the_last_day_of_the_fiscal_year(coordinator):
    enrolment = active_enrolment("inat")
    log_history(enrolment, whole_days=89, half_day=True)

    support_day = log(
        coordinator,
        enrolment,
        "0.5",
        on=dt.date(2027, 3, 31),
        today=dt.date(2027, 4, 2),
    )

    assert support_day.fiscal_year == 2026


def test_inat_refuses_day_90_and_a_half_of_the_fiscal_year(coordinator):
    enrolment = active_enrolment("inat")
    log_history(enrolment, whole_days=90)

    with pytest.raises(ValidationFailed) as caught:
        log(
            coordinator,
            enrolment,
            "0.5",
            on=dt.date(2027, 3, 31),
            today=dt.date(2027, 4, 2),
        )

    assert caught.value.code == "quota_exceeded"
    assert caught.value.detail == (
        "iNatの支援日数の上限は年度ごとに90日です。"
        "2026年度の残りは0日のため、0.5日は記録できません。"
    )


def test_inat_quota_starts_again_on_1_april(coordinator):
    enrolment = active_enrolment("inat")
    log_history(enrolment, whole_days=90)

    support_day = log(
        coordinator, enrolment, "1", on=dt.date(2027, 4, 1), today=dt.date(2027, 4, 2)
    )

    assert support_day.fiscal_year == 2027
    enrolment.refresh_from_db()
    assert enrolment.days_used == Decimal("91.0")


def test_a_program_without_a_day_quota_takes_any_number_of_days(coordinator):
    enrolment = active_enrolment("ipas", scheme="", with_plan=False)
    log_history(enrolment, whole_days=100)

    assert log(coordinator, enrolment, "1").days == Decimal("1")


# --- Plan first, active only, half days, dates ----------------------------------------


@pytest.mark.parametrize("code", ["iaca", "inat"])
def test_programs_requiring_a_plan_refuse_days_before_the_plan(coordinator, code):
    enrolment = active_enrolment(code, with_plan=False)

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, "1")

    assert caught.value.code == "plan_required"
    assert caught.value.field is None
    assert "第1期の支援計画を登録してください" in caught.value.detail
    assert not SupportDay.objects.filter(enrolment=enrolment).exists()


def test_ipas_needs_no_plan_before_days(coordinator):
    enrolment = active_enrolment("ipas", scheme="", with_plan=False)

    assert log(coordinator, enrolment, "1").days == Decimal("1")


@pytest.mark.parametrize("status", ["applied", "screening", "accepted", "completed"])
def test_days_are_logged_only_on_active_enrolments(coordinator, status):
    enrolment = active_enrolment("ipas", scheme="")
    Enrolment.objects.filter(pk=enrolment.pk).update(status=status)

    with pytest.raises(Conflict) as caught:
        log(coordinator, enrolment, "1")

    assert caught.value.code == "enrolment_not_active"
    assert caught.value.extra == {"current_status": status}


@pytest.mark.parametrize("days", ["0", "0.3", "1.5", "2", "-1"])
def test_days_other_than_a_half_or_a_whole_day_are_refused(coordinator, days):
    enrolment = active_enrolment("ipas", scheme="")

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, days)

    assert caught.value.field == "days"
    assert caught.value.detail == "支援日数は0.5日または1日で入力してください。"


def test_a_date_before_support_started_is_refused(coordinator):
    enrolment = active_enrolment("ipas", scheme="")

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, "1", on=dt.date(2026, 4, 30))

    assert caught.value.field == "date"


def test_a_future_date_is_refused(coordinator):
    enrolment = active_enrolment("ipas", scheme="")

    with pytest.raises(ValidationFailed) as caught:
        log(coordinator, enrolment, "1", on=dt.date(2026, 11, 22))

    assert caught.value.field == "date"
    assert caught.value.detail == "未来の日付は記録できません。"


def test_the_applicant_organisation_may_not_log_days(staff_a):
    enrolment = active_enrolment("ipas", scheme="")

    with pytest.raises(PermissionDenied):
        log(staff_a, enrolment, "1")


def test_an_expert_of_another_organisation_on_the_team_logs_days(api, network):
    expert = make_actor("jpaa-kanto", "expert")
    enrolment = active_enrolment(
        "ipas", scheme="", started_on=timezone.localdate() - dt.timedelta(days=10)
    )
    TeamMember.objects.create(
        enrolment=enrolment, membership=expert.membership, role="ip_expert"
    )

    response = api(expert).post(
        f"/api/v1/enrolments/{enrolment.pk}/support-days/",
        {"date": timezone.localdate().isoformat(), "days": "0.5", "note": "面談"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["days"] == 0.5
    assert response.json()["note"] == "面談"


# --- API ------------------------------------------------------------------------------


def test_post_support_days_is_201_and_adds_to_days_used(api, coordinator):
    today = timezone.localdate()
    enrolment = active_enrolment("iaca", started_on=today - dt.timedelta(days=30))

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/support-days/",
        {"date": today.isoformat(), "days": "1", "note": "特許出願戦略の検討"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["enrolment"], body["days"], body["period"]) == (enrolment.pk, 1.0, 1)
    detail = api(coordinator).get(f"/api/v1/enrolments/{enrolment.pk}/").json()
    assert detail["days_used"] == 1.0


def test_post_support_days_past_the_quota_is_a_400_quota_exceeded(api, coordinator):
    today = timezone.localdate()
    enrolment = active_enrolment("iaca", started_on=today - dt.timedelta(days=30))
    log_history(enrolment, whole_days=30, on=today)

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/support-days/",
        {"date": today.isoformat(), "days": "0.5", "note": ""},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "quota_exceeded"
    assert response.json()["remaining_days"] == 0.0
    assert "残りは0日" in response.json()["detail"]


def test_post_plan_creates_201_then_updates_200(api, coordinator):
    enrolment = active_enrolment("iaca", with_plan=False)
    url = f"/api/v1/enrolments/{enrolment.pk}/plan/"

    created = api(coordinator).post(url, {"goals": "シーズ3件の評価"}, format="json")
    updated = api(coordinator).post(
        url, {"goals": "シーズ3件の評価と出願", "achieved": True}, format="json"
    )

    assert created.status_code == 201, created.content
    assert created.json()["is_achieved"] is False
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    plan = SupportPlan.objects.get(enrolment=enrolment)
    assert (plan.period, plan.goals, plan.is_achieved) == (
        1,
        "シーズ3件の評価と出願",
        True,
    )
    detail = api(coordinator).get(f"/api/v1/enrolments/{enrolment.pk}/").json()
    assert detail["plan"]["goals"] == "シーズ3件の評価と出願"


def test_a_plan_update_without_achieved_keeps_the_achievement(coordinator):
    enrolment = active_enrolment("iaca", with_plan=False)
    support_plan_save(
        actor=coordinator, enrolment=enrolment, goals="目標A", achieved=True
    )

    plan, created = support_plan_save(
        actor=coordinator, enrolment=enrolment, goals="目標B"
    )

    assert created is False
    assert (plan.goals, plan.is_achieved) == ("目標B", True)


def test_a_plan_of_an_applied_enrolment_is_a_409(api, coordinator):
    enrolment = EnrolmentFactory(status="applied")

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/plan/", {"goals": "目標"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "enrolment_not_active"
    assert not SupportPlan.objects.exists()


def test_a_blank_plan_is_a_400_on_goals(api, coordinator):
    enrolment = active_enrolment("iaca", with_plan=False)

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/plan/", {"goals": "   "}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["goals"]


# --- Concurrency ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_loggers_taking_the_last_half_day_at_once_log_it_once(network, monkeypatch):
    coordinator = make_actor("inpit", "coordinator")
    enrolment = active_enrolment("iaca")
    log_history(enrolment, whole_days=29, half_day=True)
    count_days = support_days_services.support_days_logged

    def slow_count(enrolment, **kwargs):
        used = count_days(enrolment, **kwargs)
        time.sleep(0.3)
        return used

    # Patched where support_days_log looks it up, so the count is slow inside
    # the locked section and the two loggers really overlap.
    monkeypatch.setattr(support_days_services, "support_days_logged", slow_count)
    start = threading.Barrier(2)
    outcomes = []

    def log_in_thread():
        try:
            start.wait(timeout=10)
            log(coordinator, enrolment, "0.5")
            outcomes.append("logged")
        except ValidationFailed as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=log_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["logged", "quota_exceeded"]
    enrolment.refresh_from_db()
    assert enrolment.days_used == Decimal("30.0")
    assert SupportDay.objects.filter(enrolment=enrolment).count() == 31
