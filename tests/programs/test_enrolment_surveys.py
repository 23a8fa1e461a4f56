"""A satisfaction survey when a program enrolment completes (DESIGN.md, issue 21).

programs calls crm's `survey_schedule_for` from the transition to
`completed`: one survey of the company about the program's operator, due
the next business day, when the operator's `after_enrolment_completed` is
on; the reminder sweep then sends it under the usual rules. Calendar:
2026-07-17 is a Friday, 2026-07-20 海の日, so the next business day is
Tuesday 2026-07-21.
"""

from __future__ import annotations

import datetime as dt

import pytest

from crm.models import Consent, Contact, Survey, SurveySettings
from crm.services.surveys import survey_schedule_for
from programs.services.enrolments import enrolment_transition
from support_network.models import Organisation
from tests.conftest import make_actor
from tests.crm.test_surveys import at, survey_mails, sweep
from tests.programs.factories import EnrolmentFactory

pytestmark = pytest.mark.django_db

FRIDAY = dt.date(2026, 7, 17)


@pytest.fixture
def coordinator(network):
    """A coordinator of INPIT, the operator of IPAS."""
    return make_actor("inpit", "coordinator")


def active_enrolment(*, consent=True):
    enrolment = EnrolmentFactory(status="active")  # IPAS, run by INPIT
    if consent:
        contact = Contact.objects.create(
            company=enrolment.company,
            organisation=enrolment.organisation,
            name="鈴木 恵子",
            email="keiko@example.jp",
        )
        Consent.objects.create(
            company=enrolment.company,
            scope="network",
            obtained_on=dt.date(2026, 4, 1),
            method="written",
            contact=contact,
            recorded_by=make_actor("inpit-window-13", "window_staff").user,
            organisation=enrolment.organisation,
            allows_surveys=True,
        )
    return enrolment


def complete(coordinator, enrolment):
    return enrolment_transition(
        actor=coordinator, enrolment=enrolment, status="completed", today=FRIDAY
    )


def test_completing_an_enrolment_schedules_one_survey_about_the_operator(coordinator):
    enrolment = active_enrolment()

    complete(coordinator, enrolment)

    survey = Survey.objects.get()
    assert survey.source == "enrolment"
    assert survey.enrolment_id == enrolment.pk
    assert survey.organisation.code == "inpit"  # the operator, not the applicant
    assert survey.company_id == enrolment.company_id
    assert survey.status == "scheduled"
    assert survey.due_on == dt.date(2026, 7, 21)  # over the weekend and 海の日
    assert survey.fiscal_year == 2026


def test_no_survey_when_the_operators_setting_is_off(coordinator):
    SurveySettings.objects.create(
        organisation=Organisation.objects.get(code="inpit"),
        after_enrolment_completed=False,
    )

    complete(coordinator, active_enrolment())

    assert not Survey.objects.exists()


def test_an_enrolment_gets_its_survey_once(coordinator):
    enrolment = active_enrolment()
    complete(coordinator, enrolment)

    again = survey_schedule_for(
        organisation=Organisation.objects.get(code="inpit"),
        company=enrolment.company,
        source="enrolment",
        about_id=enrolment.pk,
        due_on=dt.date(2026, 7, 22),
    )

    assert again is None
    assert Survey.objects.count() == 1
    assert Survey.objects.get().due_on == dt.date(2026, 7, 21)


def test_other_transitions_schedule_no_survey(coordinator):
    enrolment = active_enrolment()

    enrolment_transition(
        actor=coordinator, enrolment=enrolment, status="withdrawn", today=FRIDAY
    )

    assert not Survey.objects.exists()


def test_the_sweep_sends_the_enrolment_survey_under_the_usual_rules(
    coordinator, django_capture_on_commit_callbacks
):
    complete(coordinator, active_enrolment())
    sweep(at(7, 17, 15), django_capture_on_commit_callbacks)
    assert survey_mails() == []  # due on the next business day

    sweep(at(7, 21), django_capture_on_commit_callbacks)

    [message] = survey_mails()
    assert message.to == ["keiko@example.jp"]
    assert Organisation.objects.get(code="inpit").name in message.subject
    assert Survey.objects.get().status == "sent"


def test_without_a_consent_the_enrolment_survey_is_skipped(
    coordinator, django_capture_on_commit_callbacks
):
    complete(coordinator, active_enrolment(consent=False))

    sweep(at(7, 21), django_capture_on_commit_callbacks)

    assert survey_mails() == []
    survey = Survey.objects.get()
    assert (survey.status, survey.skipped_reason) == ("skipped", "no_consent")


def test_statistics_count_the_enrolment_survey(
    coordinator, api, django_capture_on_commit_callbacks
):
    complete(coordinator, active_enrolment())
    sweep(at(7, 21), django_capture_on_commit_callbacks)
    manager = make_actor("inpit", "manager")

    totals = (
        api(manager, "inpit")
        .get("/api/v1/statistics/surveys/", {"fiscal_year": 2026})
        .json()["totals"]
    )

    assert (totals["sent"], totals["responses"]) == (1, 0)


def test_a_filing_reported_in_the_answer_is_confirmed_on_the_enrolments_case(
    coordinator, api, django_capture_on_commit_callbacks
):
    from django.test import Client
    from django.utils import timezone

    from crm.models import Outcome
    from tests.crm.factories import CaseFactory
    from tests.crm.test_surveys import answer, token_of

    enrolment = active_enrolment()
    inpit = Organisation.objects.get(code="inpit")
    enrolment.case = CaseFactory(company=enrolment.company, organisation=inpit)
    enrolment.save(update_fields=["case"])
    complete(coordinator, enrolment)
    sweep(at(7, 21), django_capture_on_commit_callbacks)
    now = timezone.now()  # the page reads the wall clock
    Survey.objects.update(sent_at=now, expires_at=now + dt.timedelta(days=30))
    answer(
        Client(),
        token_of(survey_mails()[0]),
        filed_after="on",
        application_number="特願2026-054321",
    )
    survey = Survey.objects.get()

    confirmed = api(make_actor("inpit", "manager"), "inpit").post(
        f"/api/v1/surveys/{survey.pk}/confirm-outcome/"
    )

    assert confirmed.status_code == 200, confirmed.content
    outcome = Outcome.objects.get()
    assert (outcome.case_id, outcome.reference) == (enrolment.case_id, "特願2026-054321")
