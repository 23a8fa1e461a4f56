"""Satisfaction surveys: scheduling in the reminder sweep, sending once, the public page.

Calendar used (support_network.calendar): 2026-07-17 is a Friday, Monday
2026-07-20 is 海の日 (a national holiday), so 3 business days after the
17th is Thursday 2026-07-23.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from crm.models import Consent, Contact, Notification, Survey, SurveySettings
from crm.services.reminders import reminders_sweep
from crm.services.surveys import survey_settings_update
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsultationFactory

JST = ZoneInfo("Asia/Tokyo")


def at(month, day, hour=10, year=2026):
    return dt.datetime(year, month, day, hour, 0, tzinfo=JST)


def consenting_company(*, email="keiko@example.jp", allows=True, org=ORG_A):
    organisation = Organisation.objects.get(code=org)
    company = CompanyFactory(registered_by=organisation)
    contact = Contact.objects.create(
        company=company, organisation=organisation, name="鈴木 恵子", email=email
    )
    user = make_actor(org, "window_staff").user
    Consent.objects.create(
        company=company,
        scope="network",
        obtained_on=dt.date(2026, 4, 1),
        method="written",
        contact=contact,
        recorded_by=user,
        organisation=organisation,
        allows_surveys=allows,
    )
    return company


def consult(company, when, org=ORG_A):
    case = CaseFactory(company=company, organisation=Organisation.objects.get(code=org))
    return ConsultationFactory(case=case, occurred_at=when)


def sweep(when, capture):
    with capture(execute=True):
        return reminders_sweep(now=when)


def survey_mails():
    return [m for m in mail.outbox if "アンケート" in m.subject]


def token_of(message) -> str:
    return re.search(r"/surveys/([A-Za-z0-9_\-]+)/\n", message.body).group(1)


@pytest.mark.django_db
def test_survey_goes_three_business_days_later_skipping_weekend_and_holiday(
    network, django_capture_on_commit_callbacks
):
    company = consenting_company()
    consult(company, at(7, 17, 15))

    sweep(at(7, 22), django_capture_on_commit_callbacks)
    assert survey_mails() == []
    assert Survey.objects.get().due_on == dt.date(2026, 7, 23)

    sweep(at(7, 23, 8), django_capture_on_commit_callbacks)  # before 09:00
    assert survey_mails() == []

    sweep(at(7, 23), django_capture_on_commit_callbacks)
    [message] = survey_mails()
    assert message.to == ["keiko@example.jp"]
    assert "アンケート" in message.body
    assert "/opt-out/" in message.body
    assert message.content_subtype == "plain"
    survey = Survey.objects.get()
    assert survey.status == "sent"
    assert survey.expires_at == at(7, 23) + dt.timedelta(days=30)
    assert token_of(message) not in (survey.token_hash or "")


@pytest.mark.django_db
def test_two_sweeps_send_one_survey(network, django_capture_on_commit_callbacks):
    consult(consenting_company(), at(7, 17, 15))

    first = sweep(at(7, 23), django_capture_on_commit_callbacks)
    second = sweep(at(7, 23, 11), django_capture_on_commit_callbacks)

    assert len(survey_mails()) == 1
    assert first.counts["survey.sent"] == 1
    assert second.counts.get("survey.sent", 0) == 0


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_each_survey_once(network):
    companies = [consenting_company(email=f"c{i}@example.jp") for i in range(6)]
    for company in companies:
        consult(company, at(7, 17, 15))
    reminders_sweep(now=at(7, 22))  # schedules, sends nothing yet
    assert Survey.objects.filter(status="scheduled").count() == 6
    start = threading.Barrier(2)

    def run():
        try:
            start.wait(timeout=10)
            reminders_sweep(now=at(7, 23), batch_size=2)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(m.to[0] for m in survey_mails()) == sorted(
        f"c{i}@example.jp" for i in range(6)
    )
    assert Survey.objects.filter(status="sent").count() == 6


@pytest.mark.django_db
def test_at_most_one_survey_per_company_and_organisation_in_30_days(
    network, django_capture_on_commit_callbacks
):
    company = consenting_company()
    consult(company, at(7, 17, 15))
    sweep(at(7, 23), django_capture_on_commit_callbacks)
    consult(company, at(7, 28, 11))  # due Friday 7/31: 8 days after the first
    consult(company, at(7, 28, 14), org=ORG_B)  # another organisation: its own

    sweep(at(7, 31), django_capture_on_commit_callbacks)

    assert len(survey_mails()) == 2
    skipped = Survey.objects.get(status="skipped")
    assert skipped.skipped_reason == "recent_survey"
    assert skipped.organisation.code == ORG_A
    assert Survey.objects.get(organisation__code=ORG_B).status == "sent"


@pytest.mark.django_db
def test_survey_after_the_30_days_goes_again(network, django_capture_on_commit_callbacks):
    company = consenting_company()
    consult(company, at(7, 17, 15))
    sweep(at(7, 23), django_capture_on_commit_callbacks)
    consult(company, at(8, 20, 11))  # due 8/25, 33 days after the first

    sweep(at(8, 25), django_capture_on_commit_callbacks)

    assert len(survey_mails()) == 2


@pytest.mark.django_db
def test_no_survey_without_consent_email_or_after_opt_out(
    network, django_capture_on_commit_callbacks
):
    no_consent = consenting_company(allows=False)
    no_email = consenting_company(email="")
    opted_out = consenting_company(email="out@example.jp")
    Contact.objects.filter(company=opted_out).update(
        surveys_opted_out_at=at(7, 1)
    )
    for company in (no_consent, no_email, opted_out):
        consult(company, at(7, 17, 15))

    sweep(at(7, 23), django_capture_on_commit_callbacks)

    assert survey_mails() == []
    assert not Survey.objects.filter(company=no_consent).exists()
    reasons = set(Survey.objects.values_list("skipped_reason", flat=True))
    assert reasons == {"no_contact"}


@pytest.mark.django_db
def test_organisation_setting_changes_the_delay_or_turns_surveys_off(
    network, django_capture_on_commit_callbacks
):
    admin = make_actor(ORG_A, "org_admin")
    survey_settings_update(actor=admin, after_consultation_business_days=1)
    consult(consenting_company(), at(7, 17, 15))
    SurveySettings.objects.create(
        organisation=Organisation.objects.get(code=ORG_B),
        after_consultation_business_days=0,
    )
    consult(consenting_company(org=ORG_B), at(7, 17, 15), org=ORG_B)

    sweep(at(7, 21), django_capture_on_commit_callbacks)  # 1 business day: 7/21

    assert len(survey_mails()) == 1
    assert not Survey.objects.filter(organisation__code=ORG_B).exists()


# --- the public page ----------------------------------------------------------


@pytest.fixture
def sent_token(network, django_capture_on_commit_callbacks):
    consult(consenting_company(), at(7, 17, 15))
    sweep(at(7, 23), django_capture_on_commit_callbacks)
    # The page reads the wall clock: as if the e-mail had just gone out.
    now = timezone.now()
    Survey.objects.update(sent_at=now, expires_at=now + dt.timedelta(days=30))
    return token_of(survey_mails()[0])


def answer(client, token, **extra):
    data = {"score": "5", "useful": "4", "comment": "丁寧でした"}
    data.update(extra)
    return client.post(f"/surveys/{token}/", data)


@pytest.mark.django_db
def test_answer_once_then_the_link_is_used(sent_token):
    client = Client(enforce_csrf_checks=False)

    page = client.get(f"/surveys/{sent_token}/")
    first = answer(client, sent_token)
    second = answer(client, sent_token, score="1")
    again = client.get(f"/surveys/{sent_token}/")

    assert page.status_code == 200
    assert "ご支援についてのアンケート" in page.content.decode()
    assert first.status_code == 200
    assert "ご回答ありがとうございました" in first.content.decode()
    assert second.status_code == 410
    assert "既にご回答いただいています" in second.content.decode()
    assert again.status_code == 410
    survey = Survey.objects.get()
    assert (survey.status, survey.score, survey.useful) == ("answered", 5, 4)


@pytest.mark.django_db
def test_expired_link_is_410_in_japanese(sent_token):
    Survey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = Client().get(f"/surveys/{sent_token}/")

    assert response.status_code == 410
    assert "回答期限" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "x" + t[1:] if t[0] != "x" else "y" + t[1:],  # tampered
        lambda t: "unknown-token",
        lambda t: t[:-5],  # cut short
        lambda t: "a" * 500,
        lambda t: "%E3%81%82%00",
    ],
)
def test_unknown_or_tampered_link_is_404_in_japanese(sent_token, mangle):
    response = Client().get(f"/surveys/{mangle(sent_token)}/")

    assert response.status_code == 404
    assert "アンケートが見つかりません" in response.content.decode()


@pytest.mark.django_db
def test_bad_answer_is_400_and_records_nothing(sent_token):
    response = answer(Client(), sent_token, score="9")

    assert response.status_code == 400
    assert Survey.objects.get().status == "sent"


@pytest.mark.django_db
def test_the_page_refuses_a_post_without_csrf_token(sent_token):
    response = answer(Client(enforce_csrf_checks=True), sent_token)

    assert response.status_code == 403
    assert Survey.objects.get().status == "sent"


@pytest.mark.django_db
def test_filed_after_with_a_number_notifies_the_managers(sent_token):
    manager = make_actor(ORG_A, "manager")

    answer(Client(), sent_token, filed_after="on", application_number="特願2026-012345")

    note = Notification.objects.get(recipient=manager.user)
    assert "特願2026-012345" in note.message
    assert note.kind == "survey_outcome_proposed"


@pytest.mark.django_db
def test_opt_out_link_records_the_opt_out_on_the_contact(sent_token):
    client = Client()

    confirm = client.get(f"/surveys/{sent_token}/opt-out/")
    assert Contact.objects.get().surveys_opted_out_at is None
    done = client.post(f"/surveys/{sent_token}/opt-out/")

    assert confirm.status_code == 200
    assert done.status_code == 200
    assert "配信を停止しました" in done.content.decode()
    assert Contact.objects.get().surveys_opted_out_at is not None


@pytest.mark.django_db
def test_staff_confirm_the_reported_filing_as_an_outcome(sent_token, api):
    from crm.models import Outcome

    answer(Client(), sent_token, filed_after="on", application_number="特願2026-012345")
    manager = make_actor(ORG_A, "manager")
    survey = Survey.objects.get()

    confirmed = api(manager, ORG_A).post(f"/api/v1/surveys/{survey.pk}/confirm-outcome/")
    again = api(manager, ORG_A).post(f"/api/v1/surveys/{survey.pk}/confirm-outcome/")
    other = api(make_actor(ORG_B, "manager"), ORG_B).post(
        f"/api/v1/surveys/{survey.pk}/confirm-outcome/"
    )

    assert confirmed.status_code == 200, confirmed.content
    outcome = Outcome.objects.get()
    assert (outcome.kind, outcome.reference) == ("filing", "特願2026-012345")
    assert outcome.case == survey.consultation.case
    assert again.status_code == 409
    assert other.status_code == 404


@pytest.mark.django_db
def test_completed_referral_is_surveyed_about_the_receiver(
    network, django_capture_on_commit_callbacks
):
    from tests.crm.factories import ReferralFactory

    company = consenting_company()
    case = CaseFactory(company=company, organisation=Organisation.objects.get(code=ORG_A))
    ReferralFactory(
        case=case,
        to_organisation=Organisation.objects.get(code=ORG_B),
        status="completed",
        completed_at=at(7, 22, 16),
    )

    sweep(at(7, 23), django_capture_on_commit_callbacks)

    survey = Survey.objects.get()
    assert (survey.organisation.code, survey.from_organisation.code) == (ORG_B, ORG_A)
    assert survey.status == "sent"
    assert Organisation.objects.get(code=ORG_B).name in survey_mails()[0].body


@pytest.mark.django_db
def test_the_public_page_is_rate_limited_per_address(sent_token, settings):
    from django.core.cache import cache

    settings.CRM_SURVEY_RATE_PER_MINUTE = 3
    cache.delete_many(["survey-rate:192.0.2.77", "survey-rate:192.0.2.78"])
    client = Client(REMOTE_ADDR="192.0.2.77")

    statuses = [client.get(f"/surveys/guess-{n}/").status_code for n in range(5)]
    other = Client(REMOTE_ADDR="192.0.2.78").get(f"/surveys/{sent_token}/")

    assert statuses == [404, 404, 404, 429, 429]
    assert other.status_code == 200
