"""Round capacity (採択枠): acceptance never takes a round past it, also concurrently."""

import threading
import time

import pytest
from django.db import connection

from programs import selectors
from programs.models import Enrolment
from programs.services import enrolments
from programs.services.enrolments import enrolment_transition
from support_network.errors import Conflict
from tests.conftest import make_actor
from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory, program


@pytest.fixture
def coordinator(network):
    return make_actor("inpit", "coordinator")


def accept(api, actor, enrolment):
    return api(actor).post(
        f"/api/v1/enrolments/{enrolment.pk}/transition/",
        {"status": "accepted"},
        format="json",
    )


def test_accepting_up_to_capacity_succeeds_and_one_more_is_a_409_round_full(
    api, coordinator
):
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=2)
    first, second, third = EnrolmentFactory.create_batch(
        3, round=round_, status="screening"
    )

    assert accept(api, coordinator, first).status_code == 200
    assert accept(api, coordinator, second).status_code == 200
    response = accept(api, coordinator, third)

    assert response.status_code == 409
    assert response.json() == {
        "detail": "IPASの2030年度の採択枠（2件）は埋まっているため、採択できません。",
        "code": "round_full",
        "capacity": 2,
    }
    assert Enrolment.objects.get(pk=third.pk).status == "screening"
    assert selectors.round_capacity_used(round_) == 2


@pytest.mark.parametrize("holding", ["accepted", "active", "completed"])
def test_accepted_active_and_completed_enrolments_hold_seats(api, coordinator, holding):
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=1)
    EnrolmentFactory(round=round_, status=holding)
    waiting = EnrolmentFactory(round=round_, status="screening")

    assert accept(api, coordinator, waiting).status_code == 409


@pytest.mark.parametrize("released", ["applied", "screening", "rejected", "withdrawn"])
def test_applied_screening_rejected_and_withdrawn_enrolments_hold_no_seat(
    api, coordinator, released
):
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=1)
    EnrolmentFactory(round=round_, status=released)
    waiting = EnrolmentFactory(round=round_, status="screening")

    assert accept(api, coordinator, waiting).status_code == 200


def test_withdrawing_an_accepted_enrolment_frees_its_seat(api, coordinator):
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=1)
    accepted = EnrolmentFactory(round=round_, status="accepted")
    waiting = EnrolmentFactory(round=round_, status="screening")
    assert accept(api, coordinator, waiting).status_code == 409

    api(coordinator).post(
        f"/api/v1/enrolments/{accepted.pk}/transition/",
        {"status": "withdrawn"},
        format="json",
    )

    assert accept(api, coordinator, waiting).status_code == 200


def test_seats_of_another_round_do_not_count(api, coordinator):
    full = ProgramRoundFactory(program=program("ipas"), fiscal_year=2031, capacity=1)
    EnrolmentFactory(round=full, status="accepted")
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=1)
    waiting = EnrolmentFactory(round=round_, status="screening")

    assert accept(api, coordinator, waiting).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_accepting_the_last_seat_at_once_fill_it_once(
    network, monkeypatch
):
    coordinator = make_actor("inpit", "coordinator")
    round_ = ProgramRoundFactory(program=program("ipas"), capacity=2)
    EnrolmentFactory(round=round_, status="accepted")
    contenders = EnrolmentFactory.create_batch(2, round=round_, status="screening")
    # Widen the window between counting the seats and saving: without the
    # round lock both threads would count 1 and both accept.
    count_seats = enrolments.round_capacity_used

    def slow_count(round):
        used = count_seats(round)
        time.sleep(0.3)
        return used

    # Patch the module that calls it (programs/services/enrolments.py).
    monkeypatch.setattr(enrolments, "round_capacity_used", slow_count)
    start = threading.Barrier(2)
    outcomes = {}

    def accept_in_thread(enrolment):
        try:
            start.wait(timeout=10)
            enrolment_transition(
                actor=coordinator, enrolment=enrolment, status="accepted"
            )
            outcomes[enrolment.pk] = "accepted"
        except Conflict as exc:
            outcomes[enrolment.pk] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=accept_in_thread, args=(e,)) for e in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["accepted", "round_full"]
    assert Enrolment.objects.filter(round=round_, status="accepted").count() == 2
    assert selectors.round_capacity_used(round_) == 2
