"""Who sees what (DESIGN.md "Who sees what") across two organisations.

Organisation A is the INPIT 東京都窓口, B the よろず 大阪府. Each rule is checked
through the API (list, detail, search) and through the selectors (counts).
"""

import pytest
from django.utils import timezone

from crm.selectors.visibility import (
    cases_visible_to,
    consultations_visible_to,
    contacts_visible_to,
)
from tests.conftest import make_actor
from tests.crm.factories import (
    CaseFactory,
    ConsentFactory,
    ConsultationFactory,
    ContactFactory,
    ReferralFactory,
)


@pytest.fixture
def world(network, staff_a, staff_b):
    """Given one case (with a consultation and a contact) in A and one in B."""
    case_a = CaseFactory(
        organisation=network["inpit-window-13"],
        created_by=staff_a.user,
        assignee=staff_a.user,
        company__name="株式会社エーテック",
    )
    consultation_a = ConsultationFactory(case=case_a)
    contact_a = ContactFactory(
        company=case_a.company, organisation=network["inpit-window-13"]
    )
    case_b = CaseFactory(
        organisation=network["yorozu-27"],
        created_by=staff_b.user,
        assignee=staff_b.user,
        company__name="ビー商事株式会社",
        company__prefecture_id="27",
    )
    consultation_b = ConsultationFactory(case=case_b)
    contact_b = ContactFactory(
        company=case_b.company, organisation=network["yorozu-27"]
    )
    return {
        "case_a": case_a,
        "consultation_a": consultation_a,
        "contact_a": contact_a,
        "case_b": case_b,
        "consultation_b": consultation_b,
        "contact_b": contact_b,
    }


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_each_organisation_lists_only_its_own_cases(api, world, staff_a, staff_b):
    assert ids(api(staff_a).get("/api/v1/cases/")) == {world["case_a"].id}
    assert ids(api(staff_b).get("/api/v1/cases/")) == {world["case_b"].id}


def test_another_organisations_case_detail_is_404_not_403(api, world, staff_b):
    response = api(staff_b).get(f"/api/v1/cases/{world['case_a'].id}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "見つかりません。", "code": "not_found"}


def test_another_organisations_consultations_are_absent_from_list_and_404(
    api, world, staff_a, staff_b
):
    assert ids(api(staff_b).get("/api/v1/consultations/")) == {
        world["consultation_b"].id
    }
    detail = api(staff_b).get(f"/api/v1/consultations/{world['consultation_a'].id}/")
    assert detail.status_code == 404
    filtered = api(staff_b).get(
        f"/api/v1/consultations/?company={world['case_a'].company_id}"
    )
    assert ids(filtered) == set()


def test_counts_exclude_what_is_invisible(world, staff_a, staff_b):
    assert cases_visible_to(staff_b).count() == 1
    assert consultations_visible_to(staff_b).count() == 1
    assert contacts_visible_to(staff_b).count() == 1
    assert (
        consultations_visible_to(staff_b)
        .filter(company=world["case_a"].company)
        .count()
        == 0
    )


def test_contacts_follow_the_case_rules(world, staff_a, staff_b):
    assert set(contacts_visible_to(staff_a)) == {world["contact_a"]}
    assert set(contacts_visible_to(staff_b)) == {world["contact_b"]}


def test_company_master_data_is_shared_but_private_fields_are_not(
    api, world, staff_a, staff_b
):
    company = world["case_a"].company

    other = api(staff_b).get(f"/api/v1/companies/{company.id}/").json()
    own = api(staff_a).get(f"/api/v1/companies/{company.id}/").json()

    assert other["name"] == "株式会社エーテック"
    assert other["prefecture"] == "13"
    for private in ("capital_yen", "employees", "industry", "size_class", "is_startup"):
        assert private not in other
        assert private in own
    assert other["has_private_access"] is False
    assert own["capital_yen"] == 10_000_000


def test_search_by_another_organisation_returns_no_private_data(api, world, staff_b):
    response = api(staff_b).get("/api/v1/companies/", {"q": "エーテック"})

    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [world["case_a"].company_id]
    assert "capital_yen" not in rows[0]
    assert "employees" not in rows[0]


def test_size_class_filter_does_not_reveal_other_organisations_companies(
    api, world, staff_a, staff_b
):
    # Both companies are 小規模 (12 employees, manufacturing).
    assert ids(api(staff_b).get("/api/v1/companies/", {"size_class": "micro"})) == {
        world["case_b"].company_id
    }
    assert ids(api(staff_a).get("/api/v1/companies/", {"size_class": "micro"})) == {
        world["case_a"].company_id
    }


@pytest.mark.parametrize(
    ("status", "visible"),
    [
        ("sent", True),
        ("accepted", True),
        ("completed", True),
        ("declined", False),
        ("cancelled", False),
        ("expired", False),
    ],
)
def test_a_referral_shows_the_case_to_the_receiver_while_it_is_live(
    api, world, network, staff_a, staff_b, status, visible
):
    case = world["case_a"]
    ReferralFactory(
        case=case,
        to_organisation=network["yorozu-27"],
        sent_by=staff_a.user,
        status=status,
    )

    detail = api(staff_b).get(f"/api/v1/cases/{case.id}/")

    assert (detail.status_code == 200) is visible
    assert (case.id in ids(api(staff_b).get("/api/v1/cases/"))) is visible
    assert (
        contacts_visible_to(staff_b).filter(pk=world["contact_a"].pk).exists()
        is visible
    )
    # A third organisation never sees it.
    third = make_actor("cci-federation-13", "window_staff")
    assert api(third).get(f"/api/v1/cases/{case.id}/").status_code == 404


def test_case_detail_holds_the_timeline(api, world, network, staff_a):
    case = world["case_a"]
    ReferralFactory(
        case=case, to_organisation=network["yorozu-27"], sent_by=staff_a.user
    )

    body = api(staff_a).get(f"/api/v1/cases/{case.id}/").json()

    assert [c["id"] for c in body["consultations"]] == [world["consultation_a"].id]
    assert [r["to_organisation"] for r in body["referrals"]] == ["yorozu-27"]


def test_case_detail_lists_only_the_companys_other_visible_cases(
    api, world, network, staff_a
):
    case = world["case_a"]
    sibling = CaseFactory(company=case.company, created_by=staff_a.user)
    CaseFactory(company=case.company, organisation=network["yorozu-27"])

    body = api(staff_a).get(f"/api/v1/cases/{case.id}/").json()

    assert [c["id"] for c in body["other_cases"]] == [sibling.id]


class TestConfidentialCases:
    @pytest.fixture
    def secret_case(self, world):
        case = world["case_a"]
        case.is_confidential = True
        case.save()
        return case

    def test_only_assigned_staff_managers_and_admins_of_the_owner_see_it(
        self, api, secret_case, staff_a, staff_a2, manager_a
    ):
        admin_a = make_actor("inpit-window-13", "org_admin")

        assert api(staff_a).get(f"/api/v1/cases/{secret_case.id}/").status_code == 200
        assert api(manager_a).get(f"/api/v1/cases/{secret_case.id}/").status_code == 200
        assert api(admin_a).get(f"/api/v1/cases/{secret_case.id}/").status_code == 200
        assert api(staff_a2).get(f"/api/v1/cases/{secret_case.id}/").status_code == 404
        assert cases_visible_to(staff_a2).count() == 0
        assert consultations_visible_to(staff_a2).count() == 0

    def test_an_organisation_it_was_referred_to_sees_it(
        self, api, secret_case, network, staff_a, staff_b
    ):
        ReferralFactory(
            case=secret_case, to_organisation=network["yorozu-27"], sent_by=staff_a.user
        )

        assert api(staff_b).get(f"/api/v1/cases/{secret_case.id}/").status_code == 200

    def test_hubs_never_see_it_even_with_network_consent(
        self, api, secret_case, hub_coordinator
    ):
        ConsentFactory(company=secret_case.company, scope="network")

        assert (
            api(hub_coordinator).get(f"/api/v1/cases/{secret_case.id}/").status_code
            == 404
        )


def test_a_confidential_consultation_is_hidden_from_unassigned_colleagues(
    api, world, staff_a, staff_a2, manager_a
):
    case = world["case_a"]
    secret = ConsultationFactory(case=case, is_confidential=True)

    colleague = ids(api(staff_a2).get("/api/v1/consultations/"))
    assert world["consultation_a"].id in colleague
    assert secret.id not in colleague
    assert api(staff_a2).get(f"/api/v1/consultations/{secret.id}/").status_code == 404
    timeline = api(staff_a2).get(f"/api/v1/cases/{case.id}/").json()["consultations"]
    assert [c["id"] for c in timeline] == [world["consultation_a"].id]
    assert secret.id in ids(api(manager_a).get("/api/v1/consultations/"))


class TestHubs:
    def test_hub_coordinator_sees_cases_of_its_area_only_with_network_consent(
        self, api, world, hub_coordinator
    ):
        case = world["case_a"]
        assert api(hub_coordinator).get(f"/api/v1/cases/{case.id}/").status_code == 404

        ConsentFactory(company=case.company, scope="network")

        assert api(hub_coordinator).get(f"/api/v1/cases/{case.id}/").status_code == 200
        assert ids(api(hub_coordinator).get("/api/v1/cases/")) == {case.id}

    def test_consent_for_listed_organisations_only_does_not_open_hubs(
        self, world, network, hub_coordinator
    ):
        consent = ConsentFactory(company=world["case_a"].company, scope="organisations")
        consent.organisations.add(network["yorozu-27"])

        assert cases_visible_to(hub_coordinator).count() == 0

    def test_withdrawing_consent_stops_hub_visibility(self, world, hub_coordinator):
        consent = ConsentFactory(company=world["case_a"].company, scope="network")
        assert cases_visible_to(hub_coordinator).count() == 1

        consent.withdrawn_at = timezone.now()
        consent.save()

        assert cases_visible_to(hub_coordinator).count() == 0
        assert consultations_visible_to(hub_coordinator).count() == 0

    def test_hub_of_another_region_and_non_coordinators_do_not_see_it(
        self, world, other_hub_coordinator
    ):
        ConsentFactory(company=world["case_a"].company, scope="network")
        bureau_staff = make_actor("bureau-kanto", "window_staff")

        assert cases_visible_to(other_hub_coordinator).count() == 0
        assert cases_visible_to(bureau_staff).count() == 0

    @pytest.mark.parametrize(
        ("hub", "visible"),
        [
            ("jpaa-kanto", True),  # 東京都's 弁理士会 地域会
            ("jpaa-tokai", False),
            ("jpo", True),  # national hubs cover every prefecture
            ("inpit", True),
            ("sme-agency", True),
            ("jcci", False),  # not a hub
        ],
    )
    def test_which_hubs_cover_a_tokyo_case(self, world, hub, visible):
        ConsentFactory(company=world["case_a"].company, scope="network")
        coordinator = make_actor(hub, "coordinator")

        assert (
            cases_visible_to(coordinator)
            .filter(pk=world["case_a"].pk)
            .exists()
            is visible
        )

    def test_the_bureau_region_and_the_jpaa_branch_differ_for_nagano(
        self, network, staff_a
    ):
        # 長野県: 関東経済産業局 but 弁理士会 東海会 (reference/prefectures.md).
        case = CaseFactory(
            organisation=network["inpit-window-20"], created_by=staff_a.user
        )
        ConsentFactory(company=case.company, scope="network")

        for hub, visible in (
            ("bureau-kanto", True),
            ("jpaa-tokai", True),
            ("jpaa-kanto", False),
        ):
            coordinator = make_actor(hub, "coordinator")
            assert (
                cases_visible_to(coordinator).filter(pk=case.pk).exists()
                is visible
            )


def test_experts_see_only_cases_assigned_to_them(world, network, expert_a, staff_a):
    assert cases_visible_to(expert_a).count() == 0

    assigned = CaseFactory(
        organisation=network["inpit-window-13"],
        created_by=staff_a.user,
        assignee=expert_a.user,
    )

    assert list(cases_visible_to(expert_a)) == [assigned]


def test_superuser_sees_everything(world, superuser_actor):
    assert cases_visible_to(superuser_actor).count() == 2
    assert consultations_visible_to(superuser_actor).count() == 2
