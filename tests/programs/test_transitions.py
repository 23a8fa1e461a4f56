"""POST enrolments/{id}/transition/: the legal moves, the illegal ones, who may move."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from crm.models import AuditEvent
from programs.choices import EnrolmentStatus
from programs.models import Enrolment, ProgramRound
from programs.services.enrolments import TRANSITIONS, add_months, enrolment_transition
from support_network.calendar import fiscal_year
from tests.conftest import make_actor
from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory, program

LEGAL = [
    ("applied", "screening"),
    ("applied", "withdrawn"),
    ("screening", "accepted"),
    ("screening", "rejected"),
    ("screening", "withdrawn"),
    ("accepted", "active"),
    ("accepted", "withdrawn"),
    ("active", "completed"),
    ("active", "withdrawn"),
]
ILLEGAL = [
    pair
    for pair in itertools.product(EnrolmentStatus.values, repeat=2)
    if pair not in LEGAL
]


@pytest.fixture
def coordinator(network):
    """A coordinator of INPIT, the operator of IPAS, iAca, iNat and IPランドスケープ."""
    return make_actor("inpit", "coordinator")


def transition(api, actor, enrolment, status):
    return api(actor).post(
        f"/api/v1/enrolments/{enrolment.pk}/transition/",
        {"status": status},
        format="json",
    )


def test_the_transition_table_is_the_documented_one():
    table = {
        (current, target)
        for current, targets in TRANSITIONS.items()
        for target in targets
    }

    assert table == set(LEGAL)
    assert len(ILLEGAL) == 40


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_the_operator_coordinator_makes_every_legal_transition(
    api, coordinator, current, target
):
    enrolment = EnrolmentFactory(status=current)

    response = transition(api, coordinator, enrolment, target)

    assert response.status_code == 200, response.content
    assert response.json()["status"] == target
    assert response.json()["status_label"] == EnrolmentStatus(target).label
    assert Enrolment.objects.get(pk=enrolment.pk).status == target
    event = AuditEvent.objects.get(
        action="enrolment.transition", object_id=str(enrolment.pk)
    )
    assert event.data["from"] == current and event.data["to"] == target
    assert event.data["changes"]["status"] == [current, target]


@pytest.mark.parametrize(("current", "target"), ILLEGAL)
def test_every_other_transition_is_a_409_invalid_transition(
    api, coordinator, current, target
):
    enrolment = EnrolmentFactory(status=current)

    response = transition(api, coordinator, enrolment, target)

    assert response.status_code == 409
    assert response.json() == {
        "detail": (
            f"「{EnrolmentStatus(current).label}」の参加を"
            f"「{EnrolmentStatus(target).label}」にはできません。"
        ),
        "code": "invalid_transition",
        "current_status": current,
    }
    assert Enrolment.objects.get(pk=enrolment.pk).status == current


def test_a_manager_of_the_operator_may_transition(api, network):
    manager = make_actor("inpit", "manager")
    enrolment = EnrolmentFactory(status="applied")

    assert transition(api, manager, enrolment, "screening").status_code == 200


@pytest.mark.parametrize(
    "persona",
    ["staff_a", "manager_a", "inpit_window_staff"],
)
def test_members_who_see_the_enrolment_but_do_not_run_the_program_get_403(
    api, network, request, persona
):
    if persona == "inpit_window_staff":
        actor = make_actor("inpit", "window_staff")
    else:
        actor = request.getfixturevalue(persona)
    enrolment = EnrolmentFactory(status="applied")

    response = transition(api, actor, enrolment, "screening")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "コーディネーターと管理者だけ" in response.json()["detail"]
    assert Enrolment.objects.get(pk=enrolment.pk).status == "applied"


# The operator's experts see an enrolment only through its support team
# (docs/visibility.md "Enrolments").
@pytest.mark.parametrize(
    "persona", ["staff_b", "other_hub_coordinator", "inpit_expert"]
)
def test_a_user_who_cannot_see_the_enrolment_gets_404(api, network, request, persona):
    if persona == "inpit_expert":
        actor = make_actor("inpit", "expert")
    else:
        actor = request.getfixturevalue(persona)
    enrolment = EnrolmentFactory(status="applied")

    response = transition(api, actor, enrolment, "screening")

    assert response.status_code == 404
    assert response.json() == {"detail": "見つかりません。", "code": "not_found"}
    assert Enrolment.objects.get(pk=enrolment.pk).status == "applied"


def test_a_coordinator_of_another_operator_does_not_even_see_the_enrolment(
    api, network
):
    jpo_coordinator = make_actor("jpo", "coordinator")
    enrolment = EnrolmentFactory(status="applied")  # IPAS, run by INPIT

    assert transition(api, jpo_coordinator, enrolment, "screening").status_code == 404


def test_an_unknown_status_is_a_400_on_the_status_field(api, coordinator):
    enrolment = EnrolmentFactory(status="applied")

    response = transition(api, coordinator, enrolment, "approved")

    assert response.status_code == 400
    assert list(response.json()) == ["status"]


def test_starting_support_sets_the_period_from_duration_months(api, coordinator):
    enrolment = EnrolmentFactory(status="accepted")  # IPAS: 5 months
    today = timezone.localdate()

    response = transition(api, coordinator, enrolment, "active")

    assert response.json()["started_on"] == today.isoformat()
    assert response.json()["ends_on"] == add_months(today, 5).isoformat()


@pytest.mark.parametrize(
    ("code", "scheme", "started_on", "ends_on"),
    [
        ("ipas", "", dt.date(2026, 8, 31), dt.date(2027, 1, 31)),
        ("ipas", "", dt.date(2026, 9, 30), dt.date(2027, 2, 28)),
        ("iaca", "1", dt.date(2026, 5, 31), dt.date(2027, 3, 31)),
        ("inat", "1", dt.date(2027, 2, 28), dt.date(2028, 2, 28)),
    ],
)
def test_support_ends_duration_months_later_with_the_day_clamped(
    coordinator, code, scheme, started_on, ends_on
):
    round_ = ProgramRoundFactory(program=program(code))
    enrolment = EnrolmentFactory(round=round_, scheme=scheme, status="accepted")

    enrolment_transition(
        actor=coordinator, enrolment=enrolment, status="active", today=started_on
    )

    enrolment.refresh_from_db()
    assert (enrolment.started_on, enrolment.ends_on) == (started_on, ends_on)


def test_a_program_without_a_duration_leaves_the_end_open(network):
    jpo_coordinator = make_actor("jpo", "coordinator")
    round_ = ProgramRoundFactory(program=program("vc_ipas"))
    enrolment = EnrolmentFactory(round=round_, status="accepted")

    enrolment_transition(
        actor=jpo_coordinator,
        enrolment=enrolment,
        status="active",
        today=dt.date(2026, 7, 1),
    )

    enrolment.refresh_from_db()
    assert (enrolment.started_on, enrolment.ends_on) == (dt.date(2026, 7, 1), None)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (dt.date(2026, 8, 31), 5, dt.date(2027, 1, 31)),
        (dt.date(2026, 9, 30), 5, dt.date(2027, 2, 28)),
        (dt.date(2027, 9, 30), 5, dt.date(2028, 2, 29)),
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2026, 4, 1), 12, dt.date(2027, 4, 1)),
        (dt.date(2026, 12, 15), 10, dt.date(2027, 10, 15)),
    ],
)
def test_add_months_clamps_to_the_last_day_of_the_month(start, months, end):
    assert add_months(start, months) == end


def _this_years_enrolment() -> Enrolment:
    """An accepted IPAS enrolment in the seeded round of the current fiscal year."""
    round_ = ProgramRound.objects.get(
        program=program("ipas"), fiscal_year=fiscal_year(timezone.localdate())
    )
    return EnrolmentFactory(round=round_, status="accepted")


def test_support_that_began_earlier_is_recorded_from_its_start(api, coordinator):
    """started_on: support that began before it was entered (API.md Record upkeep)."""
    enrolment = _this_years_enrolment()
    today = timezone.localdate()
    fy_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    began = max(fy_start, today - dt.timedelta(days=20))

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/transition/",
        {"status": "active", "started_on": began.isoformat()},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["started_on"] == began.isoformat()
    assert response.json()["ends_on"] == add_months(began, 5).isoformat()
    day = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/support-days/",
        {"date": began.isoformat(), "days": 1, "note": "初回面談"},
        format="json",
    )
    assert day.status_code == 201, day.content


@pytest.mark.parametrize("when", ["future", "last_year", "not_active"])
def test_a_start_date_outside_the_rules_is_a_400_and_nothing_moves(
    api, coordinator, when
):
    enrolment = _this_years_enrolment()
    today = timezone.localdate()
    fy_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    started_on, status = {
        "future": (today + dt.timedelta(days=1), "active"),
        "last_year": (fy_start - dt.timedelta(days=1), "active"),
        "not_active": (today, "withdrawn"),
    }[when]

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/transition/",
        {"status": status, "started_on": started_on.isoformat()},
        format="json",
    )

    assert response.status_code == 400 and "started_on" in response.json()
    enrolment.refresh_from_db()
    assert enrolment.status == "accepted" and enrolment.started_on is None


def test_the_enrolment_page_takes_the_start_date_when_activating(coordinator):
    from django.test import Client
    from django.urls import reverse

    enrolment = _this_years_enrolment()
    client = Client()
    client.force_login(coordinator.user)
    page = client.get(reverse("programs:enrolment-detail", args=[enrolment.pk]))
    assert 'name="started_on"' in page.content.decode()
    today = timezone.localdate()
    fy_start = dt.date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    began = max(fy_start, today - dt.timedelta(days=3))

    client.post(
        reverse("programs:enrolment-transition", args=[enrolment.pk]),
        {"status": "active", "started_on": began.isoformat()},
    )

    enrolment.refresh_from_db()
    assert enrolment.status == "active" and enrolment.started_on == began
