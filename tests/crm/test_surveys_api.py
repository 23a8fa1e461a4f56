"""survey-settings/, surveys/ and statistics/surveys/: who sees what, counts by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from crm.models import Survey
from crm.services.surveys import token_hash
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory

SETTINGS = "/api/v1/survey-settings/"
STATS = "/api/v1/statistics/surveys/"


def survey(org, *, score=None, token=None, source="consultation", sender=None, **extra):
    now = timezone.now()
    fields = {
        "organisation": Organisation.objects.get(code=org),
        "company": CompanyFactory(),
        "source": source,
        "status": "answered" if score else "sent",
        "due_on": dt.date(2026, 7, 23),
        "fiscal_year": 2026,
        "sent_at": now,
        "expires_at": now + dt.timedelta(days=30),
        "token_hash": token_hash(token) if token else None,
        "score": score,
        "useful": score,
        "answered_at": now if score else None,
    }
    if sender:
        fields["from_organisation"] = Organisation.objects.get(code=sender)
    fields.update(extra)
    return Survey.objects.create(**fields)


@pytest.mark.django_db
def test_org_admin_reads_and_changes_the_settings(api, network):
    admin = make_actor(ORG_A, "org_admin")
    staff = make_actor(ORG_A, "window_staff")

    defaults = api(admin, ORG_A).get(SETTINGS)
    changed = api(admin, ORG_A).put(
        SETTINGS, {"after_consultation_business_days": 0}, format="json"
    )
    bad = api(admin, ORG_A).put(
        SETTINGS, {"after_consultation_business_days": 31}, format="json"
    )
    refused = api(staff, ORG_A).get(SETTINGS)

    assert defaults.json() == {
        "after_consultation_business_days": 3,
        "after_referral_completed": True,
        "after_enrolment_completed": True,
    }
    assert changed.json()["after_consultation_business_days"] == 0
    assert bad.status_code == 400
    assert "after_consultation_business_days" in bad.json()
    assert refused.status_code == 403


@pytest.mark.django_db
def test_comments_are_seen_only_by_the_surveyed_organisations_managers(api, network):
    survey(ORG_A, score=5, comment="とても丁寧でした", source="referral", sender=ORG_B)
    manager_a = make_actor(ORG_A, "manager")
    manager_b = make_actor(ORG_B, "manager")
    staff_a = make_actor(ORG_A, "window_staff")

    own = api(manager_a, ORG_A).get("/api/v1/surveys/").json()["results"]
    sender = api(manager_b, ORG_B).get("/api/v1/surveys/").json()["results"]
    staff = api(staff_a, ORG_A).get("/api/v1/surveys/").json()["results"]
    stats = api(manager_b, ORG_B).get(STATS, {"fiscal_year": 2026}).json()

    assert [s["comment"] for s in own] == ["とても丁寧でした"]
    assert sender == []
    assert staff == []
    assert "とても丁寧でした" not in str(stats)


@pytest.mark.django_db
def test_statistics_count_sent_responses_and_satisfaction(api, network):
    survey(ORG_A, score=5)
    survey(ORG_A, score=3)
    survey(ORG_A)  # sent, not answered
    survey(ORG_A, status="skipped", sent_at=None, expires_at=None)
    survey(ORG_A, score=4, source="referral", sender=ORG_B)
    survey(ORG_B, score=1)
    manager_a = make_actor(ORG_A, "manager")

    own = api(manager_a, ORG_A).get(STATS, {"fiscal_year": 2026}).json()
    pairs = api(manager_a, ORG_A).get(
        STATS, {"fiscal_year": 2026, "group_by": "from_organisation"}
    ).json()
    months = api(manager_a, ORG_A).get(
        STATS, {"fiscal_year": 2026, "group_by": "month"}
    ).json()

    assert own["totals"] == {
        "sent": 4,
        "responses": 3,
        "response_rate": 0.75,
        "score_mean": 4.0,
        "satisfied_share": 0.6667,
    }
    [pair] = pairs["rows"]
    assert (pair["from_organisation"], pair["sent"], pair["score_mean"]) == (
        ORG_B,
        1,
        4.0,
    )
    assert [(r["month"], r["sent"]) for r in months["rows"]] == [("2026-07", 4)]


@pytest.mark.django_db
def test_a_response_is_counted_once(api, network):
    now = timezone.now()
    survey(ORG_A, token="secret-token-abc", due_on=now.date(), fiscal_year=2026)
    manager_a = make_actor(ORG_A, "manager")
    client = Client()

    client.post("/surveys/secret-token-abc/", {"score": "5", "useful": "5"})
    client.post("/surveys/secret-token-abc/", {"score": "1", "useful": "1"})

    totals = api(manager_a, ORG_A).get(STATS, {"fiscal_year": 2026}).json()["totals"]
    assert (totals["sent"], totals["responses"], totals["score_mean"]) == (1, 1, 5.0)


@pytest.mark.django_db
def test_managers_page_shows_satisfaction_and_the_surveys_section(network):
    survey(ORG_A, score=5, due_on=timezone.localdate())
    survey(ORG_A, score=2, due_on=timezone.localdate())
    manager_a = make_actor(ORG_A, "manager")
    client = Client()
    client.force_login(manager_a.user)

    body = client.get("/statistics/").content.decode()

    tile = body[body.index('id="kpi-satisfaction"') :]
    assert "50.0%" in tile[: tile.index("</li>")]
    assert 'id="section-surveys"' in body


@pytest.mark.django_db
def test_answers_page_shows_comments_to_own_managers_only(network):
    survey(ORG_A, score=5, comment="説明がとても分かりやすかった", due_on=timezone.localdate())
    survey(ORG_B, score=4, comment="大阪の回答", due_on=timezone.localdate())

    def page(actor):
        client = Client()
        client.force_login(actor.user)
        return client.get("/statistics/surveys/")

    own = page(make_actor(ORG_A, "manager"))
    other = page(make_actor(ORG_B, "manager"))
    staff = page(make_actor(ORG_A, "window_staff"))

    assert "説明がとても分かりやすかった" in own.content.decode()
    assert "大阪の回答" not in own.content.decode()
    assert "説明がとても分かりやすかった" not in other.content.decode()
    assert staff.status_code == 403


@pytest.mark.django_db
def test_consent_records_whether_surveys_are_allowed(api, network):
    staff = make_actor(ORG_A, "window_staff")
    company = CompanyFactory(registered_by=Organisation.objects.get(code=ORG_A))
    url = f"/api/v1/companies/{company.pk}/consents/"
    base = {"scope": "network", "obtained_on": "2026-04-01", "method": "written"}

    with_surveys = api(staff, ORG_A).post(
        url, {**base, "allows_surveys": True}, format="json"
    )
    without = api(staff, ORG_A).post(url, base, format="json")

    assert with_surveys.status_code == 201, with_surveys.content
    assert with_surveys.json()["allows_surveys"] is True
    assert without.json()["allows_surveys"] is False

    client = Client()
    client.force_login(staff.user)
    form = client.get(f"/companies/{company.pk}/consents/new/").content.decode()
    assert 'name="allows_surveys"' in form
    client.post(
        f"/companies/{company.pk}/consents/new/",
        {**base, "allows_surveys": "on", "contact": ""},
    )
    from crm.models import Consent

    assert Consent.objects.filter(company=company, allows_surveys=True).count() == 2
