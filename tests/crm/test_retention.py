"""The retention sweep (保存期間, DESIGN.md "Personal data over time (APPI)").

Expired cases and contacts lose their personal items (the marker replaces
them), statistics read from the facts stay identical, a legal hold keeps a
case, and a second sweep changes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from crm.models import (
    AuditEvent,
    Case,
    Consultation,
    ConsultationFact,
    Contact,
    ProvisionRecord,
    Referral,
    RetentionPolicy,
)
from crm.rules.personal_data import ANONYMISED_MARKER
from crm.services.consultations import consultation_create
from crm.services.contacts import contact_create, contact_update
from crm.services.referrals import referral_send
from crm.services.retention import retention_apply
from crm.statistics.consultations import consultation_statistics
from support_network.models import Organisation
from tests.crm.factories import CompanyFactory, ConsentFactory

JST = ZoneInfo("Asia/Tokyo")
# FY2026: with the default 5 fiscal years, cases closed in FY2020 or before
# have expired; those closed in FY2021 are kept.
NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=JST)

pytestmark = pytest.mark.django_db


def _consult(actor, company, when, summary, **extra):
    return consultation_create(
        actor=actor,
        company=company,
        occurred_at=dt.datetime(*when, 10, 0, tzinfo=JST),
        channel="visit",
        duration_minutes=45,
        topics=["patent", "trademark"],
        summary=summary,
        advice="先行技術調査を勧めた。佐藤 花子様に連絡",
        next_action="明細書案を確認",
        now=dt.datetime(*when, 11, 0, tzinfo=JST),
        **extra,
    )


def _close(case, on):
    Case.objects.filter(pk=case.pk).update(
        status="closed", opened_on=on - dt.timedelta(days=30), closed_on=on
    )


def _stats(actor, year):
    result = consultation_statistics(
        actor=actor, fiscal_year=year, group_by=["prefecture", "topic", "month"]
    )
    return result["rows"], result["totals"]


def _facts():
    return sorted(
        ConsultationFact.objects.values_list(
            "consultation_id", "topic_no", "minutes", "fiscal_year", "month"
        )
    )


@pytest.fixture
def old_data(staff_a, network):
    company = CompanyFactory()
    old = _consult(staff_a, company, (2020, 5, 12), "佐藤 花子さんから特許の相談")
    _close(old.case, dt.date(2020, 9, 1))
    contact = contact_create(
        actor=staff_a,
        company=company,
        name="佐藤 花子",
        name_kana="サトウ ハナコ",
        email="hanako@example.jp",
        phone="03-1234-5678",
    )
    contact_update(actor=staff_a, contact=contact, name="佐藤 花子", title="代表")
    kept_company = CompanyFactory()
    kept = _consult(staff_a, kept_company, (2021, 5, 12), "まだ保存期間内の相談")
    _close(kept.case, dt.date(2021, 6, 1))
    kept_contact = contact_create(
        actor=staff_a, company=kept_company, name="鈴木 一郎", email="ichiro@example.jp"
    )
    return {
        "company": company,
        "old": old,
        "contact": contact,
        "kept": kept,
        "kept_contact": kept_contact,
    }


def test_expired_case_is_anonymised_and_statistics_stay_identical(old_data, manager_a):
    assert connection.vendor == "postgresql"
    before = {year: _stats(manager_a, year) for year in (2020, 2021)}
    facts_before = _facts()
    assert facts_before  # the facts are really there

    counts = retention_apply(now=NOW)

    old = Consultation.objects.get(pk=old_data["old"].pk)
    assert (old.summary, old.advice, old.next_action) == (ANONYMISED_MARKER,) * 3
    assert old.duration_minutes == 45 and old.occurred_on == dt.date(2020, 5, 12)
    case = Case.objects.get(pk=old.case_id)
    assert case.title == ANONYMISED_MARKER and case.anonymised_at == NOW
    contact = Contact.objects.get(pk=old_data["contact"].pk)
    assert (contact.name, contact.name_kana, contact.email, contact.phone) == (
        ANONYMISED_MARKER,
        "",
        "",
        "",
    )
    # Kept: closed in FY2021.
    kept = Consultation.objects.get(pk=old_data["kept"].pk)
    assert kept.summary == "まだ保存期間内の相談"
    assert Contact.objects.get(pk=old_data["kept_contact"].pk).name == "鈴木 一郎"
    assert counts["cases"] == 1 and counts["consultations"] == 1
    assert counts["contacts"] == 1
    # Statistics identical, facts untouched.
    assert {year: _stats(manager_a, year) for year in (2020, 2021)} == before
    assert _facts() == facts_before
    # The field-level audit of the contact no longer holds the name.
    for event in AuditEvent.objects.filter(
        object_type="contact", object_id=str(contact.pk)
    ):
        assert "佐藤" not in str(event.data)
        assert "hanako" not in str(event.data)
    # Audited: kinds and counts, never the values.
    event = AuditEvent.objects.get(action="retention.apply")
    assert event.organisation.code == "inpit-window-13"
    assert event.data["counts"]["cases"] == 1
    assert "佐藤" not in str(event.data)


def test_second_sweep_changes_nothing(old_data):
    retention_apply(now=NOW)
    snapshot = (
        sorted(Consultation.objects.values_list("pk", "summary", "advice")),
        sorted(Contact.objects.values_list("pk", "name", "email", "anonymised_at")),
        sorted(Case.objects.values_list("pk", "title", "anonymised_at")),
        AuditEvent.objects.count(),
    )

    counts = retention_apply(now=NOW + dt.timedelta(hours=1))

    assert counts == {}
    assert snapshot == (
        sorted(Consultation.objects.values_list("pk", "summary", "advice")),
        sorted(Contact.objects.values_list("pk", "name", "email", "anonymised_at")),
        sorted(Case.objects.values_list("pk", "title", "anonymised_at")),
        AuditEvent.objects.count(),
    )


def test_legal_hold_keeps_the_case_and_its_contacts(old_data):
    Case.objects.filter(pk=old_data["old"].case_id).update(
        is_on_legal_hold=True, legal_hold_reason="訴訟対応"
    )

    counts = retention_apply(now=NOW)

    assert "cases" not in counts
    old = Consultation.objects.get(pk=old_data["old"].pk)
    assert old.summary == "佐藤 花子さんから特許の相談"
    assert Contact.objects.get(pk=old_data["contact"].pk).name == "佐藤 花子"


def test_longer_policy_and_inactive_policy_keep_the_data(old_data, network):
    org = Organisation.objects.get(code="inpit-window-13")
    policy = RetentionPolicy.objects.create(organisation=org, years_after_close=10)
    assert retention_apply(now=NOW) == {}
    policy.years_after_close = 1
    policy.is_active = False
    policy.save()
    assert retention_apply(now=NOW) == {}
    policy.is_active = True
    policy.save()
    counts = retention_apply(now=NOW)
    # One year: FY2020 and FY2021 closures have both expired in FY2026.
    assert counts["cases"] == 2 and counts["contacts"] == 2


def test_provision_records_are_kept_three_years_then_deleted(
    staff_a, network, old_data
):
    company = old_data["company"]
    ConsentFactory(company=company)
    case = Case.objects.get(pk=old_data["old"].case_id)
    Case.objects.filter(pk=case.pk).update(status="open", closed_on=None)
    referral = referral_send(
        actor=staff_a,
        case=case,
        to_organisation=network["yorozu-27"],
        reason="佐藤 花子さんの件で専門相談",
        topics=["patent"],
        now=dt.datetime(2024, 7, 1, 10, 0, tzinfo=JST),
    )
    Referral.objects.filter(pk=referral.pk).update(status="completed")
    _close(case, dt.date(2020, 9, 1))
    ProvisionRecord.objects.filter(referral=referral).update(
        provided_on=dt.date(2024, 7, 1)
    )

    retention_apply(now=NOW)  # anonymised, record within 3 years: kept
    assert ProvisionRecord.objects.filter(referral=referral).exists()
    assert Referral.objects.get(pk=referral.pk).reason == ANONYMISED_MARKER

    counts = retention_apply(now=dt.datetime(2027, 7, 2, 9, 0, tzinfo=JST))

    assert counts["provision_records_deleted"] == 1
    assert not ProvisionRecord.objects.filter(referral=referral).exists()


def test_command_takes_now(old_data):
    out = io.StringIO()
    call_command("apply_retention", "--now", "2021-03-01T09:00", stdout=out)
    assert "匿名化した案件: 0 件" in out.getvalue()
    assert Consultation.objects.get(pk=old_data["old"].pk).summary != ANONYMISED_MARKER

    out = io.StringIO()
    call_command("apply_retention", "--now", "2026-06-01T09:00+09:00", stdout=out)
    assert "匿名化した案件: 1 件" in out.getvalue()
    assert "匿名化した担当者: 1 件" in out.getvalue()
    assert Consultation.objects.get(pk=old_data["old"].pk).summary == ANONYMISED_MARKER


# --- API: retention-policy/ and cases/{id}/legal-hold/ ----------------------------


def test_retention_policy_api(api, staff_a, network):
    from tests.conftest import make_actor

    admin = make_actor("inpit-window-13", "org_admin")
    client = api(admin)
    answer = client.get("/api/v1/retention-policy/")
    assert answer.status_code == 200
    assert answer.json() == {
        "organisation": "inpit-window-13",
        "years_after_close": 5,
        "is_active": True,
    }
    for bad in (0, 31, "5", True):
        answer = client.put(
            "/api/v1/retention-policy/", {"years_after_close": bad}, format="json"
        )
        assert answer.status_code == 400, bad
        assert "years_after_close" in answer.json()
    assert not RetentionPolicy.objects.exists()

    answer = client.put(
        "/api/v1/retention-policy/",
        {"years_after_close": 7, "is_active": False},
        format="json",
    )
    assert answer.status_code == 200
    policy = RetentionPolicy.objects.get()
    assert (policy.years_after_close, policy.is_active) == (7, False)
    event = AuditEvent.objects.get(action="retention_policy.update")
    assert event.data["changes"] == {
        "years_after_close": [5, 7],
        "is_active": [True, False],
    }

    answer = api(staff_a).get("/api/v1/retention-policy/")
    assert answer.status_code == 403 and answer.json()["code"] == "org_admin_only"
    answer = api(staff_a).put(
        "/api/v1/retention-policy/", {"years_after_close": 1}, format="json"
    )
    assert answer.status_code == 403
    assert RetentionPolicy.objects.get().years_after_close == 7


def test_legal_hold_api(api, old_data, staff_a, manager_a, staff_b):
    case_id = old_data["old"].case_id
    url = f"/api/v1/cases/{case_id}/legal-hold/"
    answer = api(staff_a).post(url, {"on": True, "reason": "訴訟"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "not_permitted"
    assert (
        api(staff_b)
        .post(url, {"on": True, "reason": "訴訟"}, format="json")
        .status_code
        == 404
    )
    answer = api(manager_a).post(url, {"on": True}, format="json")
    assert answer.status_code == 400 and "reason" in answer.json()

    answer = api(manager_a).post(
        url, {"on": True, "reason": "訴訟対応のため保全"}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["is_on_legal_hold"] is True
    assert retention_apply(now=NOW).get("cases", 0) == 0
    assert Consultation.objects.get(pk=old_data["old"].pk).summary != ANONYMISED_MARKER

    answer = api(manager_a).post(url, {"on": False}, format="json")
    assert answer.status_code == 200 and answer.json()["is_on_legal_hold"] is False
    assert retention_apply(now=NOW)["cases"] == 1
    assert Consultation.objects.get(pk=old_data["old"].pk).summary == ANONYMISED_MARKER


def test_sweep_works_in_batches(staff_a, network, monkeypatch):
    from crm.services import retention

    monkeypatch.setattr(retention, "BATCH_SIZE", 2)
    companies = [CompanyFactory() for _ in range(5)]
    for n, company in enumerate(companies):
        consultation = _consult(staff_a, company, (2019, 6, 3 + n), f"古い相談{n}")
        _close(consultation.case, dt.date(2019, 10, 1))

    counts = retention_apply(now=NOW)

    assert counts["cases"] == 5 and counts["consultations"] == 5
    assert set(Consultation.objects.values_list("summary", flat=True)) == {
        ANONYMISED_MARKER
    }
    assert retention_apply(now=NOW) == {}


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_take_each_case_once(network, monkeypatch):
    import threading

    from crm.services import retention
    from tests.conftest import make_actor

    staff = make_actor("inpit-window-13", "window_staff", "retention-race-staff")
    monkeypatch.setattr(retention, "BATCH_SIZE", 3)
    for n in range(24):
        company = CompanyFactory(registered_by=network["inpit-window-13"])
        consultation = _consult(staff, company, (2019, 6, 1 + n), f"相談{n}")
        _close(consultation.case, dt.date(2019, 10, 1))
        contact_create(actor=staff, company=company, name=f"担当 {n}")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(retention_apply(now=NOW))
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
    assert sum(r.get("cases", 0) for r in results) == 24
    assert sum(r.get("consultations", 0) for r in results) == 24
    assert sum(r.get("contacts", 0) for r in results) == 24
    assert set(Consultation.objects.values_list("summary", flat=True)) == {
        ANONYMISED_MARKER
    }
    assert set(Contact.objects.values_list("name", flat=True)) == {ANONYMISED_MARKER}
    audited = AuditEvent.objects.filter(action="retention.apply")
    assert sum(e.data["counts"].get("cases", 0) for e in audited) == 24


def test_event_registrations_and_survey_comments_of_expired_years_are_anonymised(
    staff_a,
):
    from crm.models import EventAttendee, Survey
    from crm.services.events import attendee_register, event_create

    def event_in(year):
        return event_create(
            actor=staff_a,
            title=f"{year}年度セミナー",
            kind="seminar",
            starts_at=dt.datetime(year, 10, 1, 14, 0, tzinfo=JST),
            is_online=True,
        )

    company = CompanyFactory(name="株式会社参加")
    old = attendee_register(  # FY2020: past 5 fiscal years at FY2026
        actor=staff_a,
        event=event_in(2020),
        company=company,
        contact_name="佐藤 花子",
        contact_email="hanako@example.jp",
    )
    kept = attendee_register(  # FY2021 is kept until FY2027
        actor=staff_a, event=event_in(2021), company=company, contact_name="佐藤 花子"
    )

    def survey(year):
        return Survey.objects.create(
            organisation=staff_a.membership.organisation,
            company=company,
            source="consultation",
            due_on=dt.date(year, 10, 15),
            fiscal_year=year,
            status="answered",
            score=4,
            comment="佐藤です。助かりました。",
        )

    old_survey, new_survey = survey(2020), survey(2021)

    first = retention_apply(now=NOW)
    second = retention_apply(now=NOW)

    old = EventAttendee.objects.get(pk=old.pk)
    assert (old.contact_name, old.contact_email) == (ANONYMISED_MARKER, "")
    assert EventAttendee.objects.get(pk=kept.pk).contact_name == "佐藤 花子"
    assert Survey.objects.get(pk=old_survey.pk).comment == ANONYMISED_MARKER
    assert Survey.objects.get(pk=old_survey.pk).score == 4  # the figure stays
    assert Survey.objects.get(pk=new_survey.pk).comment == "佐藤です。助かりました。"
    assert first["event_attendees"] == 1 and first["survey_comments"] == 1
    assert second == {}
