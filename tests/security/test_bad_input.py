"""Bad input is a 400 or a 404 in JSON, never a 500 (what the fuzzing found).

Each case below answered 500, or silently ignored the input, before the
fixes in config/api.py and config/api_input.py.
"""

from __future__ import annotations

import json

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


# --- Issue 24 and 25: the black-box probe's inputs --------------------------
# Each answered 500 (RecursionError, UnicodeEncodeError, "PostgreSQL text
# fields cannot contain NUL", an overflow before year 1) or Django's HTML 400
# page before config/input_cleaning.py.


def _consultation(company, **changes) -> dict:
    body = {
        "company": company.pk,
        "occurred_at": "2025-06-02T10:00:00+09:00",
        "channel": "visit",
        "duration_minutes": 30,
        "topics": ["patent"],
        "summary": "特許出願の相談",
    }
    body.update(changes)
    return body


def _post_raw(client, path: str, raw: str):
    return client.generic("POST", path, raw, content_type="application/json")


@pytest.mark.parametrize("depth", [5_000, 100_000])
def test_json_nested_past_the_limit_is_refused_and_nothing_is_written(
    api, staff_a, depth
):
    from crm.models import Consultation
    from tests.crm.factories import CompanyFactory

    body = json.dumps(_consultation(CompanyFactory()))
    raw = body[:-1] + ', "attendees": ' + "[" * depth + "]" * depth + "}"

    response = _post_raw(api(staff_a), "/api/v1/consultations/", raw)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert "入れ子が深すぎます" in response.json()["detail"]
    assert not Consultation.objects.exists()


def test_json_of_moderate_depth_is_still_read(api, staff_a):
    from tests.crm.factories import CompanyFactory

    raw = json.dumps(_consultation(CompanyFactory(), attendees=[]))

    assert _post_raw(api(staff_a), "/api/v1/consultations/", raw).status_code == 201


def test_an_oversize_api_body_is_a_json_parse_error(api, staff_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    from tests.crm.factories import CompanyFactory

    raw = json.dumps(_consultation(CompanyFactory(), summary="あ" * 20_000))

    response = _post_raw(api(staff_a), "/api/v1/consultations/", raw)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"
    assert "大きすぎます" in response.json()["detail"]


def test_an_oversize_form_body_on_the_api_is_json_not_the_html_page(
    client, staff_a, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client.force_login(staff_a.user)

    response = client.post("/api/v1/enrolments/", {"program": "x" * 5_000})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize(
    ("path", "raw", "field"),
    [
        (
            "/api/v1/consultations/",
            None,  # filled below: topics ["\ud800"]
            "topics",
        ),
        (
            "/api/v1/programs/overseas_filing/estimate/",
            '{"fiscal_year": 2025, "items": [{"right": "\\ud800", "cost_yen": 1}]}',
            "items",
        ),
        (
            "/api/v1/companies/",
            '{"name": "\\udfff株式会社", "kind": "corporation", "prefecture": "13"}',
            "name",
        ),
    ],
)
def test_a_lone_surrogate_in_a_json_body_is_refused_naming_the_field(
    api, staff_a, path, raw, field
):
    from crm.models import Company, Consultation
    from tests.crm.factories import CompanyFactory

    if raw is None:
        raw = json.dumps(_consultation(CompanyFactory())).replace(
            '"patent"', '"\\ud800"'
        )
    companies = Company.objects.count()

    response = _post_raw(api(staff_a), path, raw)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "parse_error"
    assert body["field"] == field
    assert "サロゲート" in body["detail"]
    assert not Consultation.objects.exists()
    assert Company.objects.count() == companies


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/api/v1/statistics/consultations/", "organisation"),
        ("/api/v1/statistics/referrals/", "organisation"),
        ("/api/v1/statistics/programs/", "program"),
        ("/api/v1/statistics/consultations/", "group_by"),
        ("/api/v1/companies/", "q"),
    ],
)
def test_a_nul_in_a_query_parameter_is_refused_naming_it(api, manager_a, path, param):
    response = api(manager_a).get(path, {param: "inpit\x00"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL" in response.json()[param][0]


def test_a_nul_in_the_web_company_search_is_a_japanese_400_page(client, staff_a):
    client.force_login(staff_a.user)

    response = client.get("/companies/", {"q": "株式会社\x00"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "リクエストを処理できません" in page
    assert "「q」" in page


def test_a_nul_in_a_web_form_field_is_refused_and_nothing_is_written(client, staff_a):
    from crm.models import Consultation
    from tests.crm.factories import CompanyFactory

    client.force_login(staff_a.user)
    company = CompanyFactory()

    response = client.post(
        "/consultations/new/",
        {
            "company": company.pk,
            "occurred_on": "2025-06-02",
            "occurred_time": "10:00",
            "channel": "visit",
            "duration_minutes": 30,
            "topics": ["patent"],
            "summary": "相談\x00内容",
        },
    )

    assert response.status_code == 400
    assert "「summary」" in response.content.decode()
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": "0001-01-01T00:00:00+09:00"}, "occurred_at"),
        ({"occurred_at": "9999-12-31T23:59:00+09:00"}, "occurred_at"),
        ({"follow_up_on": "9999-12-31"}, "follow_up_on"),
        ({"follow_up_on": "0001-01-03"}, "follow_up_on"),
    ],
)
def test_a_date_outside_1900_to_2100_in_a_body_is_refused(api, staff_a, changes, field):
    from crm.models import Consultation
    from tests.crm.factories import CompanyFactory

    response = api(staff_a).post(
        "/api/v1/consultations/",
        _consultation(CompanyFactory(), **changes),
        format="json",
    )

    assert response.status_code == 400
    assert "1900年から2100年" in response.json()[field][0]
    assert not Consultation.objects.exists()


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/v1/follow-ups/", {"due_before": "0001-01-01"}, "due_before"),
        ("/api/v1/follow-ups/", {"due_before": "9999-12-31"}, "due_before"),
    ],
)
def test_a_date_outside_1900_to_2100_in_a_query_is_refused(
    api, staff_a, path, params, field
):
    response = api(staff_a).get(path, params)

    assert response.status_code == 400
    assert "1900年から2100年" in response.json()[field][0]


@pytest.mark.parametrize(
    "day", ["0001-01-01", "9999-12-31", "12/31/0001", "Jan 01 0001", "01 January 9999"]
)
def test_a_web_form_date_outside_1900_to_2100_is_refused(client, staff_a, day):
    from crm.models import Consultation
    from tests.crm.factories import CompanyFactory

    client.force_login(staff_a.user)
    company = CompanyFactory()

    response = client.post(
        "/consultations/new/",
        {
            "company": company.pk,
            "occurred_on": day,
            "occurred_time": "00:00",
            "channel": "visit",
            "duration_minutes": 30,
            "topics": ["patent"],
            "summary": "相談内容",
        },
    )

    assert response.status_code == 400
    assert "1900年から2100年" in response.content.decode()
    assert not Consultation.objects.exists()


def test_a_web_filter_date_of_year_1_is_refused(client, manager_a):
    client.force_login(manager_a.user)

    response = client.get("/board/", {"since": "0001-01-01"})

    assert response.status_code == 400
    assert "「since」" in response.content.decode()


def test_an_oversize_web_form_is_a_japanese_400_page(client, staff_a, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client.force_login(staff_a.user)

    response = client.post("/consultations/new/", {"summary": "あ" * 5_000})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert "大きすぎます" in response.content.decode()
