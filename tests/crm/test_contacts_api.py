"""Contacts (担当者): GET/POST companies/{id}/contacts/, GET/PATCH contacts/{id}/."""

import pytest

from crm.models import AuditEvent, Contact
from crm.services.contacts import contact_create
from support_network.errors import Conflict
from tests.conftest import ORG_A, ORG_B
from tests.crm.factories import CaseFactory, CompanyFactory, ContactFactory


@pytest.fixture
def company_a(network, staff_a):
    """Given a company that A works with (a case of A) and B does not."""
    case = CaseFactory(
        organisation=network[ORG_A], created_by=staff_a.user, assignee=staff_a.user
    )
    return case.company


def contacts_url(company) -> str:
    return f"/api/v1/companies/{company.pk}/contacts/"


def test_staff_record_a_contact_for_their_organisation(api, company_a, staff_a):
    response = api(staff_a).post(
        contacts_url(company_a),
        {
            "name": " 田中 花子 ",
            "name_kana": "タナカ ハナコ",
            "title": "知財部長",
            "email": "ｈａｎａｋｏ.ｔａｎａｋａ@example.co.jp",
            "phone": "０３ー１２３４ー５６７８",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["organisation"] == ORG_A
    assert body["company"] == company_a.pk
    assert body["name"] == "田中 花子"
    assert body["email"] == "hanako.tanaka@example.co.jp"
    assert body["phone"] == "03-1234-5678"
    contact = Contact.objects.get()
    assert contact.organisation.code == ORG_A
    assert (
        AuditEvent.objects.filter(
            action="contact.create", object_id=str(contact.pk)
        ).count()
        == 1
    )


def test_the_company_list_shows_own_contacts_to_colleagues(
    api, company_a, staff_a, staff_a2
):
    first = ContactFactory(company=company_a, name="佐藤 一郎")
    second = ContactFactory(company=company_a, name="鈴木 次郎")
    ContactFactory(name="別の会社の人")

    response = api(staff_a2).get(contacts_url(company_a))

    assert response.status_code == 200
    assert [row["id"] for row in response.json()] == [first.pk, second.pk]
    assert api(staff_a2).get(f"/api/v1/contacts/{first.pk}/").json()["name"] == (
        "佐藤 一郎"
    )


def test_another_organisation_sees_no_contacts_of_a_company_it_does_not_work_with(
    api, company_a, staff_b
):
    contact = ContactFactory(company=company_a)

    listed = api(staff_b).get(contacts_url(company_a))
    detail = api(staff_b).get(f"/api/v1/contacts/{contact.pk}/")
    patched = api(staff_b).patch(
        f"/api/v1/contacts/{contact.pk}/", {"name": "書き換え"}, format="json"
    )

    assert listed.status_code == 200
    assert listed.json() == []
    assert detail.status_code == 404
    assert patched.status_code == 404
    assert Contact.objects.get().name == contact.name


def test_own_contacts_stay_visible_even_without_a_case(
    api, network, company_a, staff_b
):
    """B records a contact of A's company: B sees its own record, A does not see B's.

    B must work with the company to record one (crm.permissions): not before
    it opens a case of its own.
    """
    refused = api(staff_b).post(
        contacts_url(company_a), {"name": "高橋 三郎"}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "not_permitted"
    case = CaseFactory(
        company=company_a, organisation=network[ORG_B], created_by=staff_b.user
    )
    response = api(staff_b).post(
        contacts_url(company_a), {"name": "高橋 三郎"}, format="json"
    )
    case.delete()  # B's own record stays visible to B without a case

    assert response.status_code == 201, response.content
    contact_id = response.json()["id"]
    assert [r["id"] for r in api(staff_b).get(contacts_url(company_a)).json()] == [
        contact_id
    ]
    assert Contact.objects.get().organisation.code == ORG_B


def test_an_organisation_working_on_the_case_may_see_but_not_change_it(
    api, network, company_a, staff_b
):
    CaseFactory(company=company_a, organisation=network[ORG_B], created_by=staff_b.user)
    contact = ContactFactory(company=company_a, name="田中 花子")

    detail = api(staff_b).get(f"/api/v1/contacts/{contact.pk}/")
    patched = api(staff_b).patch(
        f"/api/v1/contacts/{contact.pk}/", {"name": "書き換え"}, format="json"
    )

    assert detail.status_code == 200
    assert patched.status_code == 403
    assert patched.json() == {
        "detail": "この担当者の情報を変更できるのは、登録した組織だけです。",
        "code": "not_permitted",
    }
    assert Contact.objects.get().name == "田中 花子"


def test_the_recording_organisation_patches_only_the_given_fields(
    api, company_a, staff_a
):
    contact = ContactFactory(
        company=company_a, name="田中 花子", email="old@example.jp", phone="03-1"
    )

    response = api(staff_a).patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"title": "代表取締役", "phone": "090-1234-5678"},
        format="json",
    )

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.email, contact.phone) == (
        "田中 花子",
        "代表取締役",
        "old@example.jp",
        "090-1234-5678",
    )
    event = AuditEvent.objects.get(action="contact.update")
    assert event.data == {
        "fields": ["phone", "title"],
        "changes": {"phone": ["03-1", "090-1234-5678"], "title": ["", "代表取締役"]},
    }


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": ""}, "name", "氏名を入力してください。"),
        ({"name": "　 "}, "name", "氏名を入力してください。"),
        ({}, "name", "この項目は必須です。"),
        (
            {"name": "田中", "email": "tanaka@"},
            "email",
            "メールアドレスの形式が正しくありません（例: tanaka@example.co.jp）。",
        ),
        (
            {"name": "田中", "email": "tanaka example.co.jp"},
            "email",
            "メールアドレスの形式が正しくありません（例: tanaka@example.co.jp）。",
        ),
        (
            {"name": "田中", "phone": "03-1234-567a"},
            "phone",
            "電話番号は数字とハイフンで入力してください（例: 03-1234-5678）。",
        ),
        (
            {"name": "田中", "phone": "03--1234"},
            "phone",
            "電話番号は数字とハイフンで入力してください（例: 03-1234-5678）。",
        ),
        (
            {"name": "田中", "phone": "03(1234)5678"},
            "phone",
            "電話番号は数字とハイフンで入力してください（例: 03-1234-5678）。",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_japanese_message_on_the_field(
    api, company_a, staff_a, body, field, message
):
    response = api(staff_a).post(contacts_url(company_a), body, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {field: [message]}
    assert not Contact.objects.exists()


def test_a_bad_patch_changes_nothing(api, company_a, staff_a):
    contact = ContactFactory(company=company_a, email="ok@example.jp")

    response = api(staff_a).patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"name": "新しい名前", "email": "not-an-address"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    contact.refresh_from_db()
    assert (contact.name, contact.email) == (contact.name, "ok@example.jp")
    assert Contact.objects.get().name != "新しい名前"


@pytest.mark.parametrize("body", [[], "x", {"name": {"a": 1}}, {"name": ["田中"]}])
def test_malformed_bodies_never_give_a_500(api, company_a, staff_a, body):
    response = api(staff_a).post(contacts_url(company_a), body, format="json")

    assert response.status_code == 400
    assert not Contact.objects.exists()


def test_unknown_or_merged_company_is_404(api, network, staff_a):
    survivor = CompanyFactory()
    merged = CompanyFactory(merged_into=survivor)

    assert api(staff_a).get("/api/v1/companies/999999/contacts/").status_code == 404
    response = api(staff_a).post(contacts_url(merged), {"name": "田中"}, format="json")
    assert response.status_code == 404
    assert api(staff_a).get("/api/v1/contacts/999999/").status_code == 404


def test_the_service_refuses_a_contact_on_a_merged_company(network, staff_a):
    survivor = CompanyFactory()
    merged = CompanyFactory(merged_into=survivor)

    with pytest.raises(Conflict) as refused:
        contact_create(actor=staff_a, company=merged, name="田中")

    assert refused.value.code == "company_merged"
    assert not Contact.objects.exists()


def test_contacts_endpoints_are_in_the_openapi_schema(api, staff_a):
    schema = api(staff_a).get("/api/schema/", {"format": "json"}).json()

    assert "/api/v1/companies/{id}/contacts/" in schema["paths"]
    assert set(schema["paths"]["/api/v1/contacts/{id}/"]) >= {"get", "patch"}
    assert "post" in schema["paths"]["/api/v1/companies/{id}/merge/"]
