"""POST/GET/PATCH companies/ (API.md): validation, duplicates, search, private data."""

import datetime as dt

import pytest

from crm.models import AuditEvent, Company
from tests.crm.factories import CaseFactory

TOYOTA = "1180301018771"  # reference/houjin_bangou.md §3
NINTENDO = "1130001011420"


def payload(**overrides):
    body = {
        "name": "株式会社みらい精工",
        "name_kana": "ミライセイコウ",
        "kind": "corporation",
        "prefecture": "13",
        "industry": "E",
        "capital_yen": 30_000_000,
        "employees": 45,
        "founded_on": "2020-04-01",
    }
    body.update(overrides)
    return body


def test_create_returns_201_with_derived_size_class_and_startup_flag(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/companies/", payload(corporate_number=TOYOTA), format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["size_class"] == "sme"  # manufacturing, 45 ≤ 300 employees, > 20
    assert body["is_startup"] is True  # founded < 10 years ago, capital ≤ 3億円
    assert body["corporate_number"] == TOYOTA
    company = Company.objects.get(pk=body["id"])
    assert company.registered_by.code == "inpit-window-13"
    assert company.name_key == "みらい精工"
    assert (
        AuditEvent.objects.filter(
            action="company.create", object_id=str(company.pk)
        ).count()
        == 1
    )


def test_invoice_style_and_full_width_corporate_numbers_are_normalised(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/companies/",
        payload(corporate_number="Ｔ１１３０００１０１１４２０"),
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["corporate_number"] == NINTENDO


@pytest.mark.parametrize(
    ("field", "value", "message_part"),
    [
        ("corporate_number", "2180301018771", "チェックデジット"),
        ("corporate_number", "118030101877", "13桁"),
        ("corporate_number", "abcdefghijklm", "13桁"),
        ("prefecture", "48", "都道府県"),
        ("prefecture", "東京", "都道府県"),
        ("kind", "company", None),
        ("industry", "ZZ", "日本標準産業分類"),
        ("capital_yen", -1, None),
        ("employees", -5, None),
        ("employees", "many", None),
        ("founded_on", "2099-01-01", "未来"),
        ("founded_on", "2999-01-01", "1900年から2100年"),
        ("founded_on", "2025-02-30", None),
        ("name", "", None),
        ("name", "   ", None),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, staff_a, field, value, message_part):
    response = api(staff_a).post(
        "/api/v1/companies/", payload(**{field: value}), format="json"
    )

    assert response.status_code == 400, response.content
    errors = response.json()
    assert list(errors) == [field]
    if message_part:
        assert message_part in errors[field][0]
    assert Company.objects.count() == 0


@pytest.mark.parametrize(
    "body", [[], "x", {"name": {"a": 1}}, {"capital_yen": [1]}, None]
)
def test_malformed_bodies_never_give_a_500(api, staff_a, body):
    response = api(staff_a).post("/api/v1/companies/", body, format="json")

    assert response.status_code == 400


def test_duplicate_corporate_number_is_409_with_the_existing_id(api, staff_a, staff_b):
    first = api(staff_a).post(
        "/api/v1/companies/", payload(corporate_number=TOYOTA), format="json"
    )

    second = api(staff_b).post(
        "/api/v1/companies/",
        payload(name="トヨタ", corporate_number="1-1803-0101-8771", prefecture="23"),
        format="json",
    )

    assert second.status_code == 409
    assert second.json() == {
        "detail": "この法人番号の企業等は既に登録されています。",
        "code": "duplicate_company",
        "existing": first.json()["id"],
    }
    assert Company.objects.count() == 1


def test_owner_can_patch_and_size_class_is_recomputed(api, staff_a):
    created = api(staff_a).post("/api/v1/companies/", payload(), format="json").json()

    response = api(staff_a).patch(
        f"/api/v1/companies/{created['id']}/",
        {"employees": 2500, "capital_yen": 5_000_000_000},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["size_class"] == "large"
    assert response.json()["is_startup"] is False


def test_another_organisation_cannot_patch_and_nothing_changes(api, staff_a, staff_b):
    created = api(staff_a).post("/api/v1/companies/", payload(), format="json").json()

    response = api(staff_b).patch(
        f"/api/v1/companies/{created['id']}/",
        {"name": "乗っ取り株式会社"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert Company.objects.get(pk=created["id"]).name == "株式会社みらい精工"


def test_patch_to_an_existing_corporate_number_is_409(api, staff_a):
    api(staff_a).post(
        "/api/v1/companies/", payload(corporate_number=TOYOTA), format="json"
    )
    other = (
        api(staff_a)
        .post("/api/v1/companies/", payload(name="別会社"), format="json")
        .json()
    )

    response = api(staff_a).patch(
        f"/api/v1/companies/{other['id']}/", {"corporate_number": TOYOTA}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_company"


def test_unknown_company_is_404(api, staff_a):
    assert api(staff_a).get("/api/v1/companies/999999/").status_code == 404


SPELLINGS = [
    "株式会社みらい精工",
    "みらい精工株式会社",
    "㈱みらい精工",
    "(株)みらい精工",
    "（株）みらい精工",
    "みらい精工",
    "みらい　精工",
    "みらい精工 ㈱",
    "ミライセイコウ",
    "ﾐﾗｲｾｲｺｳ",
    "みらいせいこう",
    "カブシキガイシャミライセイコウ",
    "精工",
    "ﾐﾗｲ",
    TOYOTA,
    "T" + TOYOTA,
]


@pytest.mark.parametrize("query", SPELLINGS)
def test_search_finds_the_company_from_every_spelling(api, staff_a, staff_b, query):
    created = api(staff_a).post(
        "/api/v1/companies/", payload(corporate_number=TOYOTA), format="json"
    )
    api(staff_a).post(
        "/api/v1/companies/",
        payload(name="有限会社さくら商店", name_kana="サクラショウテン"),
        format="json",
    )

    response = api(staff_b).get("/api/v1/companies/", {"q": query})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [created.json()["id"]]


def test_filters_by_corporate_number_and_prefecture(api, staff_a):
    tokyo = (
        api(staff_a)
        .post("/api/v1/companies/", payload(corporate_number=TOYOTA), format="json")
        .json()
    )
    api(staff_a).post(
        "/api/v1/companies/", payload(name="大阪の会社", prefecture="27"), format="json"
    )

    by_number = (
        api(staff_a).get("/api/v1/companies/", {"corporate_number": TOYOTA}).json()
    )
    by_pref = api(staff_a).get("/api/v1/companies/", {"prefecture": "13"}).json()

    assert [r["id"] for r in by_number["results"]] == [tokyo["id"]]
    assert [r["id"] for r in by_pref["results"]] == [tokyo["id"]]


def test_an_organisation_working_on_a_case_sees_private_fields(
    api, network, staff_a, staff_b
):
    created = api(staff_a).post("/api/v1/companies/", payload(), format="json").json()
    CaseFactory(
        company_id=created["id"],
        organisation=network["yorozu-27"],
        created_by=staff_b.user,
    )

    body = api(staff_b).get(f"/api/v1/companies/{created['id']}/").json()

    assert body["employees"] == 45
    assert body["has_private_access"] is True


def test_startup_flag_turns_off_on_the_tenth_anniversary(api, staff_a, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC))
    created = (
        api(staff_a)
        .post("/api/v1/companies/", payload(founded_on="2016-04-01"), format="json")
        .json()
    )
    assert created["is_startup"] is True

    time_machine.move_to(dt.datetime(2026, 4, 1, 12, tzinfo=dt.UTC))
    assert (
        api(staff_a).get(f"/api/v1/companies/{created['id']}/").json()["is_startup"]
        is False
    )
