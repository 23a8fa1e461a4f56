"""API.md "Conventions": token auth, X-Organisation, keyset pages, errors, schema."""

import pytest
from rest_framework.test import APIClient

from support_network.services.network import user_create_or_update
from tests.crm.factories import CompanyFactory


def test_token_from_username_and_password_authenticates_requests(network):
    user_create_or_update(
        username="yamada",
        organisation_code="yorozu-27",
        role="window_staff",
        password="s3cret-pass",
    )
    client = APIClient()

    token = client.post(
        "/api/v1/auth/token/",
        {"username": "yamada", "password": "s3cret-pass"},
        format="json",
    )
    assert token.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    assert client.get("/api/v1/prefectures/").status_code == 200


def test_wrong_password_gets_no_token(network):
    user_create_or_update(
        username="yamada",
        organisation_code="yorozu-27",
        role="window_staff",
        password="s3cret-pass",
    )

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "yamada", "password": "nope"}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/prefectures/",
        "/api/v1/companies/",
        "/api/v1/cases/",
        "/api/v1/consultations/",
    ],
)
def test_anonymous_requests_are_refused(db, path):
    response = APIClient().get(path)

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


class TestActingOrganisation:
    @pytest.fixture
    def two_hats(self, network):
        user_create_or_update(
            username="sato", organisation_code="inpit-window-13", role="window_staff"
        )
        membership, _ = user_create_or_update(
            username="sato", organisation_code="bureau-kanto", role="coordinator"
        )
        return membership.user

    def test_one_membership_is_implied(self, api, staff_b):
        assert api(staff_b).get("/api/v1/companies/").status_code == 200

    def test_several_memberships_need_the_header(self, two_hats):
        client = APIClient()
        client.force_authenticate(two_hats)

        response = client.get("/api/v1/companies/")

        assert response.status_code == 400
        assert response.json()["code"] == "organisation_required"

    def test_the_header_selects_the_membership(self, two_hats):
        client = APIClient()
        client.force_authenticate(two_hats)
        client.credentials(HTTP_X_ORGANISATION="bureau-kanto")
        created = client.post(
            "/api/v1/companies/",
            {"name": "関東テック株式会社", "kind": "corporation", "prefecture": "11"},
            format="json",
        )

        assert created.status_code == 201
        from crm.models import Company

        assert (
            Company.objects.get(pk=created.json()["id"]).registered_by.code
            == "bureau-kanto"
        )

    def test_an_organisation_the_user_is_not_a_member_of_is_403(self, api, staff_b):
        response = api(staff_b, organisation="inpit-window-13").get(
            "/api/v1/companies/"
        )

        assert response.status_code == 403
        assert response.json()["code"] == "not_a_member"

    def test_a_user_without_membership_is_403(self, db, django_user_model):
        client = APIClient()
        client.force_authenticate(django_user_model.objects.create_user("nobody"))

        response = client.get("/api/v1/companies/")

        assert response.status_code == 403
        assert response.json()["code"] == "no_membership"


def test_lists_are_keyset_pages_with_next_and_previous(api, staff_a):
    companies = CompanyFactory.create_batch(7)

    first = api(staff_a).get("/api/v1/companies/", {"page_size": 3}).json()
    second = api(staff_a).get(first["next"]).json()
    third = api(staff_a).get(second["next"]).json()

    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    seen = [r["id"] for page in (first, second, third) for r in page["results"]]
    assert seen == sorted((c.id for c in companies), reverse=True)
    assert third["next"] is None
    assert "cursor=" in first["next"]


def test_page_size_is_capped_at_200(api, staff_a):
    CompanyFactory.create_batch(205)

    page = api(staff_a).get("/api/v1/companies/", {"page_size": 1000}).json()

    assert len(page["results"]) == 200


def test_invalid_cursor_is_404_not_500(api, staff_a):
    response = api(staff_a).get("/api/v1/companies/", {"cursor": "garbage"})

    assert response.status_code == 404


def test_openapi_schema_describes_the_public_paths(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/prefectures/",
        "/api/v1/organisations/",
        "/api/v1/programs/",
        "/api/v1/companies/",
        "/api/v1/companies/{id}/",
        "/api/v1/cases/",
        "/api/v1/cases/{id}/",
        "/api/v1/consultations/",
    ):
        assert path in paths


def test_docs_page_is_served_with_local_assets(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn" not in html.lower()
