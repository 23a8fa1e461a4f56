"""POST consultations/, consents, follow-ups and outcomes (API.md)."""

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import Case, Consent, Consultation, Contact, FollowUp, Outcome
from tests.crm.factories import CaseFactory, CompanyFactory

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # 19:00 JST, a Friday


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def company(network):
    return CompanyFactory(name="株式会社ひかり技研")


def body(company_obj, **overrides):
    data = {
        "company": company_obj.id,
        "occurred_at": "2026-11-20T10:30:00+09:00",
        "channel": "visit",
        "duration_minutes": 45,
        "topics": ["patent", "trademark"],
        "ip_types": ["patent"],
        "summary": "新製品の特許出願と商標について相談",
        "next_action": "先行技術調査の結果を共有",
        "follow_up_on": "2026-11-27",
        "attendees": ["yorozu-13"],
    }
    data.update(overrides)
    return data


def test_logging_opens_a_case_and_creates_the_follow_up(api, staff_a, company):
    response = api(staff_a).post("/api/v1/consultations/", body(company), format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    consultation = Consultation.objects.get(pk=data["id"])
    case = Case.objects.get(pk=data["case"])
    assert (case.company, case.organisation.code, case.assignee) == (
        company,
        "inpit-window-13",
        staff_a.user,
    )
    assert sorted(data["topics"]) == ["patent", "trademark"]
    assert data["attendees"] == ["yorozu-13"]
    assert (consultation.occurred_on, consultation.fiscal_year) == (
        dt.date(2026, 11, 20),
        2026,
    )
    follow_up = FollowUp.objects.get(case=case)
    assert (follow_up.due_on, follow_up.assignee, follow_up.status) == (
        dt.date(2026, 11, 27),
        staff_a.user,
        "open",
    )


def test_logging_on_a_given_case_adds_to_it(api, staff_a, company):
    case = CaseFactory(company=company, created_by=staff_a.user, assignee=staff_a.user)

    response = api(staff_a).post(
        "/api/v1/consultations/",
        body(company, case=case.id, follow_up_on=None),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["case"] == case.id
    assert Case.objects.count() == 1
    assert FollowUp.objects.count() == 0


def test_fiscal_year_follows_the_jst_date(api, staff_a, company):
    # 2026-03-31 23:30 JST is FY2025; 00:30 on 4/1 JST is FY2026.
    late = api(staff_a).post(
        "/api/v1/consultations/",
        body(company, occurred_at="2026-03-31T14:30:00Z", follow_up_on=None),
        format="json",
    )
    early = api(staff_a).post(
        "/api/v1/consultations/",
        body(company, occurred_at="2026-03-31T15:30:00Z", follow_up_on=None),
        format="json",
    )

    assert (late.json()["fiscal_year"], late.json()["occurred_on"]) == (
        2025,
        "2026-03-31",
    )
    assert (early.json()["fiscal_year"], early.json()["occurred_on"]) == (
        2026,
        "2026-04-01",
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"company": 999999}, "company"),
        ({"company": "abc"}, "company"),
        ({"case": 999999}, "case"),
        (
            {"occurred_at": "2026-11-21T09:00:00+09:00"},
            "occurred_at",
        ),  # tomorrow in JST
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"channel": "fax"}, "channel"),
        ({"duration_minutes": -10}, "duration_minutes"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"topics": []}, "topics"),
        ({"topics": ["patent", "astrology"]}, "topics"),
        ({"topics": "patent"}, "topics"),
        ({"ip_types": ["spaceship"]}, "ip_types"),
        ({"summary": ""}, "summary"),
        ({"summary": "   "}, "summary"),
        ({"follow_up_on": "2026-11-19"}, "follow_up_on"),  # before the consultation
        ({"follow_up_on": "2033-01-01"}, "follow_up_on"),  # past 5 years
        ({"attendees": ["nowhere"]}, "attendees"),
        ({"attendees": ["inpit-window-13"]}, "attendees"),  # own organisation
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    api, staff_a, company, overrides, field
):
    response = api(staff_a).post(
        "/api/v1/consultations/", body(company, **overrides), format="json"
    )

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Consultation.objects.count() == 0
    assert Case.objects.count() == 0
    assert FollowUp.objects.count() == 0


def test_a_case_of_another_organisation_is_not_found(
    api, network, staff_a, staff_b, company
):
    other = CaseFactory(
        company=company, organisation=network["yorozu-27"], created_by=staff_b.user
    )

    response = api(staff_a).post(
        "/api/v1/consultations/", body(company, case=other.id), format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"case": ["案件が見つかりません。"]}


def test_a_case_of_another_company_is_refused(api, staff_a, company):
    case = CaseFactory(created_by=staff_a.user, assignee=staff_a.user)

    response = api(staff_a).post(
        "/api/v1/consultations/", body(company, case=case.id), format="json"
    )

    assert response.status_code == 400
    assert "case" in response.json()


def test_a_confidential_first_consultation_opens_a_confidential_case(
    api, staff_a, staff_a2, company
):
    response = api(staff_a).post(
        "/api/v1/consultations/", body(company, confidential=True), format="json"
    )

    case_id = response.json()["case"]
    assert Case.objects.get(pk=case_id).is_confidential is True
    assert api(staff_a2).get(f"/api/v1/cases/{case_id}/").status_code == 404


def test_a_confidential_consultation_on_a_colleagues_case_is_201_not_500(
    api, staff_a, staff_a2, company
):
    case_id = (
        api(staff_a)
        .post("/api/v1/consultations/", body(company), format="json")
        .json()["case"]
    )

    response = api(staff_a2).post(
        "/api/v1/consultations/",
        body(company, case=case_id, confidential=True),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["case"] == case_id
    assert Consultation.objects.get(pk=response.json()["id"]).is_confidential


class TestFollowUps:
    def test_my_open_follow_ups_and_completion(self, api, staff_a, staff_a2, company):
        api(staff_a).post("/api/v1/consultations/", body(company), format="json")
        api(staff_a2).post(
            "/api/v1/consultations/",
            body(company, follow_up_on="2026-12-01"),
            format="json",
        )

        mine = (
            api(staff_a)
            .get("/api/v1/follow-ups/", {"assignee": "me", "status": "open"})
            .json()
        )
        assert [f["due_on"] for f in mine["results"]] == ["2026-11-27"]
        follow_up_id = mine["results"][0]["id"]

        done = api(staff_a).post(f"/api/v1/follow-ups/{follow_up_id}/complete/")
        again = api(staff_a).post(f"/api/v1/follow-ups/{follow_up_id}/complete/")

        assert done.status_code == 200
        assert done.json()["status"] == "done"
        assert again.status_code == 409
        assert again.json()["code"] == "invalid_transition"
        assert (
            api(staff_a)
            .get("/api/v1/follow-ups/", {"assignee": "me", "status": "open"})
            .json()["results"]
            == []
        )

    def test_due_before_filter(self, api, staff_a, company):
        api(staff_a).post("/api/v1/consultations/", body(company), format="json")

        early = (
            api(staff_a).get("/api/v1/follow-ups/", {"due_before": "2026-11-26"}).json()
        )
        late = (
            api(staff_a).get("/api/v1/follow-ups/", {"due_before": "2026-11-27"}).json()
        )

        assert early["results"] == []
        assert len(late["results"]) == 1

    def test_another_organisations_follow_up_is_404(
        self, api, staff_a, staff_b, company
    ):
        api(staff_a).post("/api/v1/consultations/", body(company), format="json")
        follow_up = FollowUp.objects.get()

        assert (
            api(staff_b)
            .post(f"/api/v1/follow-ups/{follow_up.id}/complete/")
            .status_code
            == 404
        )
        assert FollowUp.objects.get().status == "open"


class TestConsents:
    @pytest.fixture(autouse=True)
    def _registered_by_a(self, company, network):
        """Consents are recorded by organisations working with the company."""
        company.registered_by = network["inpit-window-13"]
        company.save(update_fields=["registered_by"])

    def test_an_organisation_not_working_with_the_company_may_not_record_one(
        self, api, staff_b, company
    ):
        response = api(staff_b).post(
            f"/api/v1/companies/{company.id}/consents/",
            {"scope": "network", "obtained_on": "2026-11-20", "method": "written"},
            format="json",
        )

        assert response.status_code == 403
        assert response.json()["code"] == "not_permitted"
        assert Consent.objects.count() == 0

    def test_a_consent_names_only_a_contact_the_caller_can_see(
        self, api, staff_a, staff_b, company, network
    ):
        other = Contact.objects.create(
            company=company, organisation=network["yorozu-27"], name="他組織 担当"
        )

        response = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/",
            {
                "scope": "network",
                "obtained_on": "2026-11-20",
                "method": "written",
                "contact": other.pk,
            },
            format="json",
        )

        assert response.status_code == 400 and "contact" in response.json()
        assert Consent.objects.count() == 0

    def test_record_network_consent_then_withdraw(self, api, staff_a, company):
        created = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/",
            {"scope": "network", "obtained_on": "2026-11-20", "method": "written"},
            format="json",
        )
        assert created.status_code == 201, created.content
        cid = created.json()["id"]
        assert created.json()["is_active"] is True

        withdrawn = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/{cid}/withdraw/"
        )
        again = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/{cid}/withdraw/"
        )

        assert withdrawn.status_code == 200
        assert withdrawn.json()["is_active"] is False
        assert again.status_code == 409
        assert Consent.objects.get().withdrawn_by == staff_a.user

    def test_consent_for_listed_organisations(self, api, staff_a, company):
        response = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/",
            {
                "scope": "organisations",
                "organisations": ["yorozu-13", "jpaa-kanto"],
                "obtained_on": "2026-11-20",
                "method": "electronic",
            },
            format="json",
        )

        assert response.status_code == 201
        assert sorted(response.json()["organisations"]) == ["jpaa-kanto", "yorozu-13"]

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"scope": "organisations", "organisations": []}, "organisations"),
            ({"scope": "organisations", "organisations": ["nowhere"]}, "organisations"),
            ({"scope": "network", "organisations": ["yorozu-13"]}, "organisations"),
            ({"scope": "everyone"}, "scope"),
            ({"scope": "network", "obtained_on": "2026-11-21"}, "obtained_on"),
            ({"scope": "network", "method": "telepathy"}, "method"),
        ],
    )
    def test_bad_consents_are_400(self, api, staff_a, company, data, field):
        payload = {"obtained_on": "2026-11-20", "method": "written", **data}

        response = api(staff_a).post(
            f"/api/v1/companies/{company.id}/consents/", payload, format="json"
        )

        assert response.status_code == 400
        assert field in response.json()
        assert Consent.objects.count() == 0

    def test_another_organisation_cannot_see_or_withdraw_a_consent(
        self, api, staff_a, staff_b, company
    ):
        cid = (
            api(staff_a)
            .post(
                f"/api/v1/companies/{company.id}/consents/",
                {"scope": "network", "obtained_on": "2026-11-20", "method": "written"},
                format="json",
            )
            .json()["id"]
        )

        listing = api(staff_b).get(f"/api/v1/companies/{company.id}/consents/")
        withdraw = api(staff_b).post(
            f"/api/v1/companies/{company.id}/consents/{cid}/withdraw/"
        )

        assert listing.json() == []
        assert withdraw.status_code == 404
        assert Consent.objects.get().withdrawn_at is None


class TestOutcomes:
    def test_record_a_filing(self, api, staff_a, company):
        case = CaseFactory(
            company=company, created_by=staff_a.user, assignee=staff_a.user
        )

        response = api(staff_a).post(
            "/api/v1/outcomes/",
            {
                "case": case.id,
                "kind": "filing",
                "occurred_on": "2026-11-18",
                "reference": "特願2026-123456",
                "ip_type": "patent",
            },
            format="json",
        )

        assert response.status_code == 201, response.content
        outcome = Outcome.objects.get()
        assert (outcome.company, outcome.reference, outcome.organisation.code) == (
            company,
            "特願2026-123456",
            "inpit-window-13",
        )
        timeline = api(staff_a).get(f"/api/v1/cases/{case.id}/").json()
        assert [o["reference"] for o in timeline["outcomes"]] == ["特願2026-123456"]

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"kind": "filing", "reference": ""}, "reference"),
            ({"kind": "lottery"}, "kind"),
            ({"kind": "financing", "amount_yen": -1}, "amount_yen"),
            ({"kind": "financing", "occurred_on": "2026-11-21"}, "occurred_on"),
        ],
    )
    def test_bad_outcomes_are_400(self, api, staff_a, company, data, field):
        case = CaseFactory(
            company=company, created_by=staff_a.user, assignee=staff_a.user
        )
        payload = {"case": case.id, "occurred_on": "2026-11-18", **data}

        response = api(staff_a).post("/api/v1/outcomes/", payload, format="json")

        assert response.status_code == 400
        assert field in response.json()
        assert Outcome.objects.count() == 0

    def test_an_invisible_case_is_refused(
        self, api, network, staff_a, staff_b, company
    ):
        case = CaseFactory(
            company=company, organisation=network["yorozu-27"], created_by=staff_b.user
        )

        response = api(staff_a).post(
            "/api/v1/outcomes/",
            {"case": case.id, "kind": "licence", "occurred_on": "2026-11-18"},
            format="json",
        )

        assert response.status_code == 400
        assert Outcome.objects.count() == 0


def test_every_write_is_audited(api, staff_a, company):
    from crm.models import AuditEvent

    api(staff_a).post("/api/v1/consultations/", body(company), format="json")

    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["case.open", "consultation.create"]
    assert timezone.now() == NOW
