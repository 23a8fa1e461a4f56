"""Survey e-mails are delivered exactly once: leased, retried, never lost, never twice.

The sweep claims a due survey (`sending`); the task `crm.survey_email`
(eager in tests: the real task, with its retries) takes it on a lease and
marks it `sent` only after the mail server accepted it.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from crm.models import Survey
from crm.services.surveys import survey_email_send
from crm.tasks import survey_email_task
from tests.conftest import ORG_A, make_actor
from tests.crm.flaky_mail_backend import EmailBackend as FlakyBackend
from tests.crm.test_surveys import at, consenting_company, consult, survey_mails, sweep

FLAKY = "tests.crm.flaky_mail_backend.EmailBackend"


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures_left = 0
    FlakyBackend.attempts = 0
    yield FlakyBackend
    FlakyBackend.failures_left = 0


@pytest.mark.django_db
def test_a_refused_send_is_retried_and_the_survey_goes_out_once(
    network, flaky, django_capture_on_commit_callbacks
):
    consult(consenting_company(), at(7, 17, 15))
    flaky.failures_left = 1

    result = sweep(at(7, 23), django_capture_on_commit_callbacks)

    assert flaky.attempts == 2  # refused once, accepted on the retry
    [message] = survey_mails()
    assert message.to == ["keiko@example.jp"]
    survey = Survey.objects.get()
    assert survey.status == "sent"
    assert survey.expires_at == at(7, 23) + dt.timedelta(days=30)
    assert result.counts["survey.sent"] == 1

    # A later sweep and a redelivered task send nothing more.
    sweep(at(7, 23, 11), django_capture_on_commit_callbacks)
    survey_email_task.apply(kwargs={"survey_id": survey.pk})
    assert len(survey_mails()) == 1


@pytest.mark.django_db
def test_a_send_that_keeps_failing_stays_pending_and_the_next_sweep_sends_it(
    network, flaky, api, django_capture_on_commit_callbacks
):
    consult(consenting_company(), at(7, 17, 15))
    flaky.failures_left = 100  # the server is down for all the task's retries

    sweep(at(7, 23), django_capture_on_commit_callbacks)
    assert survey_mails() == []
    survey = Survey.objects.get()
    assert survey.status == "sending"  # not lost, not taken for sent
    assert survey.email_claimed_at is None  # the failed send released its lease
    assert survey.sent_at is None
    # Its managers see it as still scheduled (the e-mail has not gone out).
    manager = make_actor(ORG_A, "manager")
    listed = api(manager, ORG_A).get("/api/v1/surveys/", {"status": "scheduled"})
    assert [row["status"] for row in listed.json()["results"]] == ["scheduled"]

    flaky.failures_left = 0
    result = sweep(at(7, 24), django_capture_on_commit_callbacks)
    assert result.counts["survey.requeued"] == 1
    assert len(survey_mails()) == 1
    assert Survey.objects.get().status == "sent"


@pytest.mark.django_db
def test_two_sweeps_and_a_redelivered_task_send_once(
    network, django_capture_on_commit_callbacks
):
    consult(consenting_company(), at(7, 17, 15))

    sweep(at(7, 23), django_capture_on_commit_callbacks)
    sweep(at(7, 23, 11), django_capture_on_commit_callbacks)
    survey = Survey.objects.get()
    assert survey_email_send(survey_id=survey.pk) == "none"
    survey_email_task.apply(kwargs={"survey_id": survey.pk})

    assert len(survey_mails()) == 1
    assert Survey.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_survey_whose_lease_ran_out_unsent_is_sent_once_by_the_next_sweep(
    network, settings, django_capture_on_commit_callbacks
):
    settings.CRM_EMAIL_LEASE_SECONDS = 300
    consult(consenting_company(), at(7, 17, 15))
    with django_capture_on_commit_callbacks(execute=False):
        # The sweep claimed it, but its task never ran to the end.
        from crm.services.reminders import reminders_sweep

        reminders_sweep(now=at(7, 23))
    survey = Survey.objects.get()
    assert survey.status == "sending"
    # A worker took the lease 30 seconds ago and is (maybe) still sending.
    Survey.objects.filter(pk=survey.pk).update(
        email_claimed_at=timezone.now() - dt.timedelta(seconds=30)
    )

    held = sweep(at(7, 23, 11), django_capture_on_commit_callbacks)
    assert held.counts["survey.requeued"] == 0
    assert survey_email_send(survey_id=survey.pk) == "none"
    assert survey_mails() == []

    # The worker died: once the lease has run out the next sweep sends it, once.
    Survey.objects.filter(pk=survey.pk).update(
        email_claimed_at=timezone.now() - dt.timedelta(seconds=301)
    )
    again = sweep(at(7, 23, 12), django_capture_on_commit_callbacks)
    assert again.counts["survey.requeued"] == 1
    assert len(survey_mails()) == 1
    sweep(at(7, 23, 13), django_capture_on_commit_callbacks)
    assert len(survey_mails()) == 1
    assert Survey.objects.get().status == "sent"


@pytest.mark.django_db
def test_a_survey_being_sent_counts_for_the_30_day_rule(
    network, flaky, django_capture_on_commit_callbacks
):
    company = consenting_company()
    consult(company, at(7, 17, 15))
    flaky.failures_left = 100
    sweep(at(7, 23), django_capture_on_commit_callbacks)  # stuck in sending
    consult(company, at(7, 24, 15))

    sweep(at(7, 30), django_capture_on_commit_callbacks)

    statuses = sorted(Survey.objects.values_list("status", flat=True))
    assert statuses == ["sending", "skipped"]
    assert survey_mails() == []


# --- a real broker and worker ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_a_real_worker_sends_the_claimed_survey_once_also_when_queued_twice(
    network, tmp_path, monkeypatch
):
    import os

    from crm.services.reminders import reminders_sweep
    from tests.crm.test_email_lease import message_ids, start_mail_worker
    from tests.crm.test_reminders_worker import stop, wait_for

    queue = f"survey-email-test-{os.getpid()}"
    queued = survey_email_task.apply_async
    monkeypatch.setattr(
        survey_email_task,
        "apply_async",
        lambda *args, **kwargs: queued(*args, **{**kwargs, "queue": queue}),
    )
    consult(consenting_company(), at(7, 17, 15))
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    worker = start_mail_worker(queue, mail_dir)
    try:
        reminders_sweep(now=at(7, 23))  # claims it; queued after commit
        survey = Survey.objects.get()
        # A duplicate message for the same survey (a redelivery).
        survey_email_task.apply_async(kwargs={"survey_id": survey.pk})
        assert wait_for(
            lambda: Survey.objects.filter(pk=survey.pk, status="sent").exists(),
            timeout=60,
        )
        time.sleep(2.0)  # a late duplicate would show up now
    finally:
        stop(worker)
    [message_id] = message_ids(mail_dir)  # one e-mail, not two
    assert message_id.startswith(f"<crm-survey-{survey.pk}@")
