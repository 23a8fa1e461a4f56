"""Record upkeep through the API (API.md "Second round → Record upkeep").

Cases close and reopen; consultations and outcomes are corrected and voided;
follow-ups are rescheduled. Each change is the writing organisation's, is
audited with old and new values, and the statistics (facts, on PostgreSQL)
follow in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import AuditEvent, Consultation, ConsultationFact, FollowUp, Outcome
from crm.services.cases import outcome_record
from crm.services.consents import consent_record
from crm.services.consultations import consultation_create
from crm.services.referral_transitions import referral_accept, referral_complete
from crm.services.referrals import referral_send
from support_network.calendar import fiscal_year
from support_network.errors import ValidationFailed
from support_network.models import Organisation
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory


@pytest.fixture
def owner(network):
    return make_actor(ORG_A, "window_staff", username="upkeep-staff")


@pytest.fixture
def coordinator(network):
    return make_actor(ORG_A, "coordinator", username="upkeep-coord")


@pytest.fixture
def colleague(network):
    return make_actor(ORG_A, "window_staff", username="upkeep-colleague")


@pytest.fixture
def company(network):
    return CompanyFactory(name="株式会社訂正テスト")


def log(actor, company, *, days_ago=1, topics=("patent",), case=None, **extra):
    return consultation_create(
        actor=actor,
        company=company,
        case=case,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        channel="visit",
        duration_minutes=30,
        topics=list(topics),
        summary="相談内容",
        **extra,
    )


def stats(api, actor, group_by="topic"):
    fy = fiscal_year(timezone.now() - dt.timedelta(days=1))
    body = (
        api(actor)
        .get(
            "/api/v1/statistics/consultations/",
            {"fiscal_year": fy, "group_by": group_by},
        )
        .json()
    )
    rows = {r[group_by]: r["consultations"] for r in body["rows"]}
    return body["totals"], rows


# --- Cases: close and reopen ------------------------------------------------------


def test_a_coordinator_closes_and_reopens_a_case(api, owner, coordinator, company):
    case = log(owner, company).case

    closed = api(coordinator).post(
        f"/api/v1/cases/{case.pk}/close/",
        {"note": "出願まで支援して完了"},
        format="json",
    )
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closing_note"] == "出願まで支援して完了"
    again = api(coordinator).post(f"/api/v1/cases/{case.pk}/close/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    # A closed case refuses new consultations, and says how to go on.
    refused = api(owner).post(
        "/api/v1/consultations/",
        {
            "company": company.pk,
            "case": case.pk,
            "occurred_at": timezone.now().isoformat(),
            "channel": "phone",
            "duration_minutes": 10,
            "topics": ["patent"],
            "summary": "追加",
        },
        format="json",
    )
    assert refused.status_code == 400 and "再開" in refused.json()["case"][0]

    reopened = api(coordinator).post(
        f"/api/v1/cases/{case.pk}/reopen/", {}, format="json"
    )
    assert reopened.status_code == 200 and reopened.json()["status"] == "open"
    assert reopened.json()["closed_on"] is None
    actions = list(
        AuditEvent.objects.filter(object_type="case", object_id=str(case.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["case.close", "case.reopen"]


def test_window_staff_may_not_close_a_case(api, owner, company):
    case = log(owner, company).case

    response = api(owner).post(f"/api/v1/cases/{case.pk}/close/", {}, format="json")

    assert response.status_code == 403 and response.json()["code"] == "not_permitted"
    case.refresh_from_db()
    assert case.status == "open"


def test_cases_filter_by_assignee(api, owner, coordinator, company):
    mine = log(owner, company).case
    log(coordinator, CompanyFactory())  # the coordinator's own case

    listed = api(owner).get("/api/v1/cases/", {"assignee": "me"}).json()["results"]
    assert [c["id"] for c in listed] == [mine.pk]
    by_id = api(coordinator).get("/api/v1/cases/", {"assignee": owner.user.pk}).json()
    assert [c["id"] for c in by_id["results"]] == [mine.pk]


# --- Consultations: edit and void -------------------------------------------------


def test_editing_a_consultation_moves_its_statistics_at_once(api, owner, company):
    consultation = log(owner, company, topics=("patent",))
    log(owner, CompanyFactory(), topics=("patent",))
    before_totals, before = stats(api, owner)
    assert before["patent"] == 2 and "trademark" not in before

    response = api(owner).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {"topics": ["trademark", "design"], "duration_minutes": 45},
        format="json",
    )

    assert response.status_code == 200
    totals, after = stats(api, owner)
    assert after["patent"] == 1 and after["trademark"] == 1 and after["design"] == 1
    assert totals["consultations"] == before_totals["consultations"] == 2
    assert totals["minutes"] == before_totals["minutes"] + 15
    event = AuditEvent.objects.get(action="consultation.update")
    assert event.data["changes"]["duration_minutes"] == [30, 45]
    assert event.data["changes"]["topics"] == [["patent"], ["design", "trademark"]]


def test_voiding_a_consultation_removes_it_everywhere_but_the_audit_trail(
    api, owner, company
):
    first = log(owner, company, days_ago=3)
    second = log(owner, company, days_ago=1, case=first.case)
    assert first.is_company_first
    totals_before, _rows = stats(api, owner)

    response = api(owner).delete(
        f"/api/v1/consultations/{first.pk}/",
        {"reason": "別の企業に入力した"},
        format="json",
    )

    assert response.status_code == 204
    assert api(owner).get(f"/api/v1/consultations/{first.pk}/").status_code == 404
    listed = api(owner).get("/api/v1/consultations/").json()["results"]
    assert [c["id"] for c in listed] == [second.pk]
    timeline = api(owner).get(f"/api/v1/cases/{first.case_id}/").json()
    assert [c["id"] for c in timeline["consultations"]] == [second.pk]
    assert not ConsultationFact.objects.filter(consultation_id=first.pk).exists()
    # The company's 初回 mark passes to the next consultation.
    second.refresh_from_db()
    assert second.is_company_first
    totals, _rows = stats(api, owner)
    assert totals["consultations"] == totals_before["consultations"] - 1
    assert totals["new_companies"] == totals_before["new_companies"] == 1
    event = AuditEvent.objects.get(action="consultation.void")
    assert event.object_id == str(first.pk)
    assert event.data["reason"] == "別の企業に入力した"
    assert event.data["values"]["summary"] == "相談内容"
    assert event.actor == owner.user


def test_only_the_writing_organisation_corrects_a_consultation(
    api, owner, colleague, coordinator, company, network
):
    consultation = log(owner, company)
    case = consultation.case

    # A colleague without a managing role: not theirs.
    refused = api(colleague).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {"summary": "上書き"},
        format="json",
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    assert (
        api(colleague).delete(f"/api/v1/consultations/{consultation.pk}/").status_code
        == 403
    )

    # Another organisation that cannot see it: 404.
    outsider = make_actor("yorozu-47", "coordinator")
    assert (
        api(outsider)
        .patch(
            f"/api/v1/consultations/{consultation.pk}/", {"summary": "x"}, format="json"
        )
        .status_code
        == 404
    )
    # The organisation's coordinator may.
    ok = api(coordinator).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {"summary": "訂正後"},
        format="json",
    )
    assert ok.status_code == 200
    consultation.refresh_from_db()
    assert consultation.summary == "訂正後" and consultation.case_id == case.pk


def test_a_bad_correction_is_refused_and_changes_nothing(api, owner, company):
    consultation = log(owner, company)
    future = (timezone.now() + dt.timedelta(days=3)).isoformat()

    response = api(owner).patch(
        f"/api/v1/consultations/{consultation.pk}/",
        {"occurred_at": future, "summary": "変えたい"},
        format="json",
    )

    assert response.status_code == 400 and "occurred_at" in response.json()
    consultation.refresh_from_db()
    assert consultation.summary == "相談内容"
    assert not AuditEvent.objects.filter(action="consultation.update").exists()


def test_moving_a_consultation_earlier_moves_the_first_mark(api, owner, company):
    first = log(owner, company, days_ago=2)
    later = log(owner, company, days_ago=1, case=first.case)

    api(owner).patch(
        f"/api/v1/consultations/{later.pk}/",
        {"occurred_at": (timezone.now() - dt.timedelta(days=5)).isoformat()},
        format="json",
    )

    first.refresh_from_db()
    later.refresh_from_db()
    assert later.is_company_first and not first.is_company_first


# --- Outcomes and follow-ups ------------------------------------------------------


def test_an_outcome_is_corrected_and_voided_by_its_organisation(api, owner, company):
    case = log(owner, company).case
    outcome = outcome_record(
        actor=owner,
        case=case,
        kind="financing",
        occurred_on=timezone.localdate(),
        amount_yen=1_000_000,
    )

    changed = api(owner).patch(
        f"/api/v1/outcomes/{outcome.pk}/", {"amount_yen": 2_000_000}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["amount_yen"] == 2_000_000
    bad = api(owner).patch(
        f"/api/v1/outcomes/{outcome.pk}/", {"kind": "filing"}, format="json"
    )
    assert bad.status_code == 400 and "reference" in bad.json()

    hub = make_actor("bureau-kanto", "coordinator")
    assert api(hub).delete(f"/api/v1/outcomes/{outcome.pk}/").status_code == 404
    assert api(owner).delete(f"/api/v1/outcomes/{outcome.pk}/").status_code == 204
    assert not Outcome.objects.filter(pk=outcome.pk).exists()
    event = AuditEvent.objects.get(action="outcome.void")
    assert event.data["values"]["amount_yen"] == 2_000_000


def test_a_follow_up_is_rescheduled_and_its_reminders_start_afresh(
    api, owner, colleague, company
):
    consultation = log(
        owner, company, follow_up_on=timezone.localdate() + dt.timedelta(days=1)
    )
    follow_up = FollowUp.objects.get(consultation=consultation)
    FollowUp.objects.filter(pk=follow_up.pk).update(
        reminded_count=3, escalated_at=timezone.now()
    )
    new_due = timezone.localdate() + dt.timedelta(days=30)

    response = api(owner).patch(
        f"/api/v1/follow-ups/{follow_up.pk}/",
        {
            "due_on": new_due.isoformat(),
            "note": "1か月後に確認",
            "assignee": colleague.user.pk,
        },
        format="json",
    )

    assert response.status_code == 200
    follow_up.refresh_from_db()
    assert follow_up.due_on == new_due and follow_up.assignee == colleague.user
    assert follow_up.reminded_count == 0 and follow_up.escalated_at is None
    changes = AuditEvent.objects.get(action="follow_up.update").data["changes"]
    assert changes["due_on"][1] == new_due.isoformat()
    assert changes["assignee"] == [owner.user.pk, colleague.user.pk]

    outsider = make_actor("yorozu-27", "window_staff")
    bad = api(owner).patch(
        f"/api/v1/follow-ups/{follow_up.pk}/",
        {"assignee": outsider.user.pk},
        format="json",
    )
    assert bad.status_code == 400 and "assignee" in bad.json()
    past = api(owner).patch(
        f"/api/v1/follow-ups/{follow_up.pk}/",
        {"due_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat()},
        format="json",
    )
    assert past.status_code == 400 and "due_on" in past.json()


def test_a_follow_up_a_few_years_ahead_is_accepted(api, owner, company):
    """A yearly review 「1年後の確認」 set a few days late fits (up to 5 years)."""
    in_a_year = timezone.localdate() + dt.timedelta(days=370)
    consultation = log(owner, company, follow_up_on=in_a_year)
    assert FollowUp.objects.get(consultation=consultation).due_on == in_a_year

    with pytest.raises(ValidationFailed) as too_far:
        log(
            owner,
            company,
            follow_up_on=timezone.localdate() + dt.timedelta(days=6 * 366),
        )
    assert too_far.value.field == "follow_up_on"


def test_case_detail_carries_the_referral_notes(api, owner, company, network):
    case = log(owner, company).case
    consent_record(
        actor=owner,
        company=company,
        scope="network",
        obtained_on=timezone.localdate(),
        method="written",
    )
    referral = referral_send(
        actor=owner,
        case=case,
        to_organisation=Organisation.objects.get(code="yorozu-27"),
        reason="紹介",
        topics=["patent"],
    )
    receiver = make_actor("yorozu-27", "window_staff", username="notes-receiver")
    referral_accept(actor=receiver, referral=referral, note="引き受けます")
    referral_complete(
        actor=receiver, referral=referral, outcome_note="出願済み"
    )

    detail = api(owner).get(f"/api/v1/cases/{case.pk}/").json()
    entry = detail["referrals"][0]
    assert (
        entry["answer_note"] == "引き受けます" and entry["outcome_note"] == "出願済み"
    )
    assert Consultation.objects.filter(case=case).count() == 1
