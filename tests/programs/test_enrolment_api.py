"""POST/GET enrolments/: shapes, visibility (404 not 403), filters, errors never 500."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from crm.models import AuditEvent
from programs.models import Enrolment
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsentFactory
from tests.programs.factories import (
    TEST_FY,
    EnrolmentFactory,
    ProgramRoundFactory,
    SupportPlanFactory,
    program,
)

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def startup(staff_a):
    """A startup registered by org A, founded three years ago."""
    return CompanyFactory(
        registered_by=staff_a.organisation,
        founded_on=timezone.localdate() - dt.timedelta(days=3 * 365),
    )


@pytest.fixture
def ipas_round(network):
    return ProgramRoundFactory(program=program("ipas"), capacity=20)


def test_post_enrolment_is_201_applied_with_the_documented_fields(
    api, staff_a, startup, ipas_round
):
    response = api(staff_a).post(
        "/api/v1/enrolments/",
        {"program": "ipas", "fiscal_year": TEST_FY, "company": startup.pk},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    enrolment = Enrolment.objects.get(company=startup)
    assert body["id"] == enrolment.pk
    assert {
        key: body[key]
        for key in (
            "program",
            "fiscal_year",
            "company",
            "case",
            "organisation",
            "scheme",
            "status",
            "status_label",
            "started_on",
            "ends_on",
            "days_used",
            "joint_research_yen_per_year",
            "plan",
        )
    } == {
        "program": "ipas",
        "fiscal_year": TEST_FY,
        "company": startup.pk,
        "case": None,
        "organisation": "inpit-window-13",
        "scheme": None,
        "status": "applied",
        "status_label": "申込",
        "started_on": None,
        "ends_on": None,
        "days_used": 0.0,
        "joint_research_yen_per_year": None,
        "plan": None,
    }
    assert AuditEvent.objects.filter(
        action="enrolment.apply", object_id=str(enrolment.pk)
    ).exists()


def test_post_enrolment_of_an_ineligible_company_is_a_400_with_detail_and_code(
    api, staff_a, ipas_round
):
    university = CompanyFactory(registered_by=staff_a.organisation, kind="university")

    response = api(staff_a).post(
        "/api/v1/enrolments/",
        {"program": "ipas", "fiscal_year": TEST_FY, "company": university.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "IPASの対象は法人（会社）です（この企業等の種別: 大学・高専）。",
        "code": "not_eligible",
    }
    assert not Enrolment.objects.exists()


def test_post_inat_enrolment_takes_the_national_project_flag(api, staff_a):
    ProgramRoundFactory(program=program("inat"))
    institute = CompanyFactory(
        registered_by=staff_a.organisation, kind="research_institute"
    )
    body = {
        "program": "inat",
        "fiscal_year": TEST_FY,
        "company": institute.pk,
        "scheme": "2",
    }

    refused = api(staff_a).post("/api/v1/enrolments/", body, format="json")
    accepted = api(staff_a).post(
        "/api/v1/enrolments/", {**body, "is_national_project": True}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "not_eligible"
    assert accepted.status_code == 201
    assert accepted.json()["scheme"] == "2"


def test_post_enrolment_for_a_year_without_round_is_a_400_on_fiscal_year(
    api, staff_a, startup
):
    response = api(staff_a).post(
        "/api/v1/enrolments/",
        {"program": "ipas", "fiscal_year": 2045, "company": startup.pk},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"fiscal_year": ["IPASの2045年度の募集回はありません。"]}


# --- Visibility ------------------------------------------------------------------------


@pytest.fixture
def enrolment_with_case(network):
    """An IPAS enrolment applied by org A on a case of org A."""
    case = CaseFactory(organisation=network["inpit-window-13"])
    return EnrolmentFactory(company=case.company, case=case, status="screening")


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("staff_a", True),  # the applying organisation
        ("staff_a2", True),
        ("manager_a", True),
        # Experts see what is assigned to them or their support team only
        # (docs/visibility.md "Enrolments", issue 24).
        ("expert_a", False),
        ("inpit_coordinator", True),  # the operator
        ("superuser_actor", True),
        ("staff_b", False),
        ("hub_coordinator", False),  # no network consent
        ("other_hub_coordinator", False),
    ],
)
def test_enrolments_are_visible_to_applicant_operator_and_case_viewers_only(
    api, request, enrolment_with_case, persona, sees
):
    if persona == "inpit_coordinator":
        actor = make_actor("inpit", "coordinator")
    else:
        actor = request.getfixturevalue(persona)
    client = api(actor)

    listed = [r["id"] for r in client.get("/api/v1/enrolments/").json()["results"]]
    detail = client.get(f"/api/v1/enrolments/{enrolment_with_case.pk}/")

    assert listed == ([enrolment_with_case.pk] if sees else [])
    assert detail.status_code == (200 if sees else 404)


def test_a_hub_coordinator_sees_the_enrolment_once_the_case_is_shared(
    api, hub_coordinator, enrolment_with_case
):
    ConsentFactory(company=enrolment_with_case.company, scope="network")

    response = api(hub_coordinator).get(f"/api/v1/enrolments/{enrolment_with_case.pk}/")

    assert response.status_code == 200
    assert response.json()["case"] == enrolment_with_case.case_id


def test_an_invisible_enrolment_is_404_on_every_action(api, staff_b, network):
    enrolment = EnrolmentFactory(status="active")
    client = api(staff_b)
    base = f"/api/v1/enrolments/{enrolment.pk}"

    responses = [
        client.post(f"{base}/transition/", {"status": "completed"}, format="json"),
        client.post(f"{base}/plan/", {"goals": "目標"}, format="json"),
        client.post(
            f"{base}/support-days/",
            {"date": timezone.localdate().isoformat(), "days": "1", "note": ""},
            format="json",
        ),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert Enrolment.objects.get(pk=enrolment.pk).status == "active"


# --- Lists: filters and keyset pages ---------------------------------------------------


def test_list_filters_by_program_fiscal_year_status_and_company(api, staff_a):
    ipas = EnrolmentFactory(status="applied")
    iaca = EnrolmentFactory(
        round=ProgramRoundFactory(program=program("iaca")), scheme="1"
    )
    later = EnrolmentFactory(
        round=ProgramRoundFactory(program=program("ipas"), fiscal_year=2031),
        status="accepted",
    )
    client = api(staff_a)

    def ids(**params):
        results = client.get("/api/v1/enrolments/", params).json()["results"]
        return [r["id"] for r in results]

    assert ids() == [later.pk, iaca.pk, ipas.pk]
    assert ids(program="ipas") == [later.pk, ipas.pk]
    assert ids(fiscal_year=2031) == [later.pk]
    assert ids(status="accepted") == [later.pk]
    assert ids(company=iaca.company_id) == [iaca.pk]
    assert ids(program="ipas", fiscal_year=TEST_FY) == [ipas.pk]


def test_list_is_keyset_paginated_newest_first(api, staff_a):
    enrolments = EnrolmentFactory.create_batch(5)
    client = api(staff_a)

    first = client.get("/api/v1/enrolments/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    third = client.get(second["next"]).json()

    seen = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert seen == sorted((e.pk for e in enrolments), reverse=True)
    assert first["previous"] is None
    assert third["next"] is None
    assert "cursor=" in first["next"]


def test_detail_shows_the_plan_of_the_current_period(api, staff_a):
    enrolment = EnrolmentFactory(
        round=ProgramRoundFactory(program=program("iaca")),
        scheme="1",
        status="active",
        period=2,
    )
    SupportPlanFactory(enrolment=enrolment, period=1, goals="第1期の目標")
    SupportPlanFactory(enrolment=enrolment, period=2, goals="第2期の目標")

    body = api(staff_a).get(f"/api/v1/enrolments/{enrolment.pk}/").json()

    assert body["period"] == 2
    assert body["plan"]["goals"] == "第2期の目標"
    assert body["plan"]["period"] == 2


# --- Errors are 400/409 with Japanese messages, never 500 --------------------------------


def _messages(payload):
    """Return the human-readable messages of an error body."""
    if isinstance(payload, dict) and "code" in payload:
        return [payload["detail"]]
    if isinstance(payload, dict):
        return [m for value in payload.values() for m in _messages(value)]
    if isinstance(payload, list):
        return [m for value in payload for m in _messages(value)]
    return [payload] if isinstance(payload, str) else []


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({}, 400, "program"),
        ({"program": "no_such", "fiscal_year": TEST_FY, "company": 1}, 400, "program"),
        ({"program": "ipas", "fiscal_year": "x", "company": 1}, 400, "fiscal_year"),
        ({"program": "ipas", "fiscal_year": TEST_FY, "company": "abc"}, 400, "company"),
        ({"program": "ipas", "fiscal_year": TEST_FY, "company": 10**9}, 400, "company"),
        (
            {"program": "iaca", "fiscal_year": TEST_FY, "company": 0, "scheme": "9"},
            400,
            "scheme",
        ),
        (
            {
                "program": "iaca",
                "fiscal_year": TEST_FY,
                "company": 1,
                "joint_research_yen_per_year": -1,
            },
            400,
            "joint_research_yen_per_year",
        ),
        ({"program": "overseas_filing", "fiscal_year": TEST_FY}, 400, "company"),
        (
            {
                "program": "inat",
                "fiscal_year": TEST_FY,
                "company": 1,
                "is_national_project": "yes please",
            },
            400,
            "is_national_project",
        ),
        ("not json", 400, None),
    ],
)
def test_bad_enrolment_input_is_a_400_in_japanese(api, staff_a, body, status, key):
    response = api(staff_a).post("/api/v1/enrolments/", body, format="json")

    assert response.status_code == status, response.content
    if key is not None:
        assert key in response.json()
    messages = _messages(response.json())
    assert messages
    assert all(JAPANESE.search(m) for m in messages), messages


@pytest.mark.parametrize(
    ("action", "body", "status", "code"),
    [
        ("transition", {"status": "bogus"}, 400, None),
        ("transition", {}, 400, None),
        ("transition", {"status": "applied"}, 409, "invalid_transition"),
        ("plan", {}, 400, None),
        ("plan", {"goals": "目標", "achieved": "maybe"}, 400, None),
        ("support-days", {"date": "2026-02-30", "days": "1"}, 400, None),
        ("support-days", {"date": "yesterday", "days": "1"}, 400, None),
        ("support-days", {"date": "2026-06-01", "days": "abc"}, 400, None),
        ("support-days", {"date": "2026-06-01", "days": "0.25"}, 400, None),
        ("support-days", {"date": "2026-06-01", "days": "0.3"}, 400, None),
        ("support-days", {"date": "2999-06-01", "days": "1"}, 400, None),
    ],
)
def test_bad_action_input_is_a_400_or_409_in_japanese(
    api, network, action, body, status, code
):
    coordinator = make_actor("inpit", "coordinator")
    enrolment = EnrolmentFactory(status="active", started_on=dt.date(2026, 4, 1))

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/{action}/", body, format="json"
    )

    assert response.status_code == status, response.content
    if code is not None:
        assert response.json()["code"] == code
    messages = _messages(response.json())
    assert messages
    assert all(JAPANESE.search(m) for m in messages), messages


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"fiscal_year": 2030},
        {"fiscal_year": 2030, "items": []},
        {"fiscal_year": 2030, "items": "patent"},
        {"fiscal_year": 2030, "items": [{"right": "patent"}]},
        {"fiscal_year": 2030, "items": [{"right": "patent", "cost_yen": -1}]},
        {"fiscal_year": 2030, "items": [{"right": "patent", "cost_yen": "1万"}]},
        {"fiscal_year": 2030, "items": [{"right": "brand", "cost_yen": 1}]},
        {"fiscal_year": 2030, "items": [{"right": "copyright", "cost_yen": 1}]},
        {
            "fiscal_year": 2030,
            "items": [{"right": "patent", "cost_yen": 1, "renewal": True}],
        },
        {"fiscal_year": 2030, "company": "x", "items": [{"right": "patent"}]},
        {
            "fiscal_year": 2030,
            "items": [{"right": "patent", "cost_yen": 1, "renewal": "sometimes"}],
        },
    ],
)
def test_bad_estimate_input_is_a_400_in_japanese(api, staff_a, body):
    response = api(staff_a).post(
        "/api/v1/programs/overseas_filing/estimate/", body, format="json"
    )

    assert response.status_code == 400, response.content
    messages = _messages(response.json())
    assert messages
    assert all(JAPANESE.search(m) for m in messages), messages


def test_the_openapi_schema_describes_the_program_endpoints(db, api):
    paths = api().get("/api/schema/", {"format": "json"}).json()["paths"]

    for path in (
        "/api/v1/enrolments/",
        "/api/v1/enrolments/{id}/",
        "/api/v1/enrolments/{id}/transition/",
        "/api/v1/enrolments/{id}/plan/",
        "/api/v1/enrolments/{id}/support-days/",
        "/api/v1/programs/{code}/estimate/",
    ):
        assert path in paths
    assert "post" in paths["/api/v1/programs/{code}/estimate/"]
