"""Bad input is a 400 or a 404 in JSON, never a 500 (what the fuzzing found).

Each case below answered 500, or silently ignored the input, before the
fixes in config/api.py and config/api_input.py.
"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/abc/",
        "/api/v1/cases/%C3%8E%3C/assign/",
        "/api/v1/referrals/1.5/accept/",
        "/api/v1/notifications/x/read/",
        "/api/v1/cases/99999999999999999999/",  # past PostgreSQL's bigint
        "/api/v1/companies/1/consents/99999999999999999999/withdraw/",
        "/api/v1/prefectures/%00/",
        "/api/v1/no-such-resource/",
    ],
)
def test_what_is_no_resource_is_a_json_404(api, staff_a, path):
    client = api(staff_a)
    action = path.rstrip("/").rsplit("/", 1)[-1]

    if action in {"assign", "accept", "read", "withdraw"}:
        response = client.post(path, {}, format="json")
    else:
        response = client.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "見つかりません。", "code": "not_found"}


def test_pages_outside_the_api_keep_the_html_404(client, db):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", "２０"])
def test_a_page_size_that_is_no_positive_integer_is_refused(api, staff_a, value):
    response = api(staff_a).get("/api/v1/cases/", {"page_size": value})

    assert response.status_code == 400
    assert "page_size" in response.json()


def test_a_page_size_over_200_is_capped(api, staff_a):
    assert api(staff_a).get("/api/v1/cases/", {"page_size": 5000}).status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/outcomes/", {"case": "1.5"}, "case"),
        ("/api/v1/consultations/", {"fiscal_year": "2025.5"}, "fiscal_year"),
        ("/api/v1/cases/", {"company": "99999999999999999999"}, "company"),
        ("/api/v1/referrals/", {"escalated": "yes"}, "escalated"),
    ],
)
def test_a_filter_of_the_wrong_type_is_refused_not_ignored(
    api, staff_a, path, params, field
):
    response = api(staff_a).get(path, params)

    assert response.status_code == 400
    assert field in response.json()


def test_an_empty_filter_means_no_filter(api, staff_a):
    response = api(staff_a).get("/api/v1/outcomes/", {"case": "", "kind": ""})

    assert response.status_code == 200


@pytest.mark.parametrize("content_type", ["json", "multipart"])
def test_a_body_with_a_nul_character_is_refused(api, staff_a, content_type):
    body = {"program": "ipas\x00", "fiscal_year": 2025, "company": 1}

    response = api(staff_a).post("/api/v1/enrolments/", body, format=content_type)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
