"""The company page (issue 17): master data, contacts (担当者) and consents.

Who may (DESIGN.md "Who may change what"): the organisation working with the
company edits its master data, adds contacts, records and withdraws
consents; a contact is changed or removed only by the organisation that
recorded it. A hub coordinator who sees the company through consent reads
everything and gets no button; its POSTs answer 403 and change nothing. An
unrelated organisation sees only the public master data.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import AuditEvent, Company, Consent, Contact
from tests.conftest import ORG_A, ORG_B
from tests.crm.factories import CaseFactory, ConsentFactory, ContactFactory

pytestmark = pytest.mark.django_db

VALID_NUMBER = "1180301018771"  # check digit right


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.fixture
def company(network, staff_a):
    """A company A works with (A's case); a network-wide consent lets the hub see it."""
    case = CaseFactory(
        organisation=network[ORG_A],
        created_by=staff_a.user,
        assignee=staff_a.user,
        title="特許出願の相談",
        company__name="株式会社ミドリ技研",
        company__industry="391",
        company__capital_yen=12_345_678,
        company__employees=1_234,
    )
    return case.company


@pytest.fixture
def consent(company, network, staff_a):
    return ConsentFactory(
        company=company, organisation=network[ORG_A], recorded_by=staff_a.user
    )


@pytest.fixture
def contact(company, network):
    return ContactFactory(
        company=company,
        organisation=network[ORG_A],
        name="佐藤 一郎",
        title="社長",
        email="ichiro@example.co.jp",
    )


def page(actor, company) -> str:
    response = client_for(actor).get(reverse("crm:company-detail", args=[company.pk]))
    assert response.status_code == 200
    return response.content.decode()


def edit_data(company, **overrides) -> dict:
    data = {
        "name": company.name,
        "name_kana": company.name_kana,
        "corporate_number": company.corporate_number or "",
        "kind": company.kind,
        "prefecture": company.prefecture_id,
        "city": company.city,
        "industry": company.industry,
        "capital_yen": company.capital_yen,
        "employees": company.employees,
        "founded_on": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_error(body: str, field: str) -> str:
    """Return the error text shown beside a field ("" when none)."""
    match = re.search(
        rf'<p class="error" role="alert" id="id_{field}_error">(.*?)</p>', body
    )
    return match.group(1) if match else ""


# --- the page ------------------------------------------------------------------


def test_owner_sees_capital_grouped_the_industry_name_and_every_button(
    staff_a, company, consent, contact
):
    body = page(staff_a, company)

    assert "12,345,678円" in body
    assert "12345678" not in body
    assert "1,234人" in body
    assert "391 ソフトウェア業（G 情報通信業）" in body
    assert reverse("crm:company-edit", args=[company.pk]) in body
    assert reverse("crm:contact-create", args=[company.pk]) in body
    assert reverse("crm:contact-edit", args=[contact.pk]) in body
    assert reverse("crm:contact-delete", args=[contact.pk]) in body
    assert reverse("crm:consent-create", args=[company.pk]) in body
    assert reverse("crm:consent-withdraw", args=[consent.pk]) in body
    assert "企業等の同意" in body


def test_a_coarse_industry_code_shows_what_it_falls_under(staff_a, company):
    Company.objects.filter(pk=company.pk).update(industry="24")

    assert "24（E 製造業）" in page(staff_a, company)


def test_hub_coordinator_reads_through_consent_but_gets_no_button(
    hub_coordinator, company, consent, contact
):
    body = page(hub_coordinator, company)

    assert "12,345,678円" in body  # sees through the network-wide consent
    assert "佐藤 一郎" in body
    for name, pk in (
        ("crm:company-edit", company.pk),
        ("crm:contact-create", company.pk),
        ("crm:contact-edit", contact.pk),
        ("crm:contact-delete", contact.pk),
        ("crm:consent-create", company.pk),
        ("crm:consent-withdraw", consent.pk),
    ):
        assert reverse(name, args=[pk]) not in body, name


def test_unrelated_organisation_sees_only_public_data_and_no_button(
    staff_b, company, consent, contact
):
    body = page(staff_b, company)

    assert "株式会社ミドリ技研" in body
    assert "12,345,678" not in body
    assert "ソフトウェア業" not in body
    assert "佐藤 一郎" not in body
    assert "企業等の同意" not in body
    assert reverse("crm:company-edit", args=[company.pk]) not in body
    assert reverse("crm:consent-create", args=[company.pk]) not in body


# --- master data ----------------------------------------------------------------


def test_owner_edits_master_data_and_the_change_is_audited(staff_a, company):
    client = client_for(staff_a)
    url = reverse("crm:company-edit", args=[company.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert 'value="12345678"' in form.content.decode()

    response = client.post(
        url,
        edit_data(
            company,
            corporate_number=VALID_NUMBER,
            industry="56",
            capital_yen="50000000",
            city="千代田区",
            controlled_by_large_company="on",
        ),
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.corporate_number == VALID_NUMBER
    assert company.industry == "56"
    assert company.capital_yen == 50_000_000
    assert company.city == "千代田区"
    assert company.controlled_by_large_company is True
    event = AuditEvent.objects.get(action="company.update", object_id=str(company.pk))
    assert event.data["changes"]["capital_yen"] == [12_345_678, 50_000_000]
    assert event.data["changes"]["industry"] == ["391", "56"]
    assert "name" not in event.data["changes"]
    body = client.get(response["Location"]).content.decode()
    assert "50,000,000円" in body
    assert "56 各種商品小売業（I 卸売業，小売業）" in body


def test_an_optional_field_can_be_cleared(staff_a, company):
    response = client_for(staff_a).post(
        reverse("crm:company-edit", args=[company.pk]),
        edit_data(company, capital_yen="", employees=""),
    )

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.capital_yen is None
    assert company.employees is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("corporate_number", "1180301018772", "チェックデジットが正しくありません"),
        ("industry", "9x", "業種は日本標準産業分類のコード"),
        (
            "founded_on",
            (timezone.localdate() + dt.timedelta(days=40)).isoformat(),
            "未来の日付は入力できません",
        ),
        ("name", "", "この項目は必須です"),
        ("capital_yen", "-5", "0 以上"),
    ],
)
def test_errors_are_shown_beside_the_field_and_nothing_typed_is_lost(
    staff_a, company, field, value, message
):
    data = edit_data(company, city="港区芝公園", **{field: value})

    response = client_for(staff_a).post(
        reverse("crm:company-edit", args=[company.pk]), data
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert message in field_error(body, field), body
    assert 'value="港区芝公園"' in body
    if value:
        assert f'value="{value}"' in body
    company.refresh_from_db()
    assert company.city == ""
    assert not AuditEvent.objects.filter(action="company.update").exists()


def test_a_duplicate_corporate_number_links_the_existing_company(staff_a, company):
    other = CaseFactory(company__corporate_number=VALID_NUMBER).company

    response = client_for(staff_a).post(
        reverse("crm:company-edit", args=[company.pk]),
        edit_data(company, corporate_number=VALID_NUMBER),
    )

    error = field_error(response.content.decode(), "corporate_number")
    assert "既に登録されています" in error
    # a link to the registered company, not its path as text
    assert f'href="{reverse("crm:company-detail", args=[other.pk])}"' in error
    company.refresh_from_db()
    assert company.corporate_number is None


def test_hub_coordinator_may_not_edit_master_data(hub_coordinator, company):
    client = client_for(hub_coordinator)
    url = reverse("crm:company-edit", args=[company.pk])

    assert client.get(url).status_code == 403
    response = client.post(url, edit_data(company, name="書き換え株式会社"))

    assert response.status_code == 403
    assert "登録した組織" in response.content.decode()
    company.refresh_from_db()
    assert company.name == "株式会社ミドリ技研"


def test_unrelated_organisation_may_not_edit_master_data(staff_b, company):
    response = client_for(staff_b).post(
        reverse("crm:company-edit", args=[company.pk]),
        edit_data(company, capital_yen="1"),
    )

    assert response.status_code == 403
    body = response.content.decode()
    assert "12345678" not in body and "12,345,678" not in body
    company.refresh_from_db()
    assert company.capital_yen == 12_345_678


def test_a_post_without_csrf_token_is_refused(staff_a, company):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a.user)

    response = client.post(
        reverse("crm:company-edit", args=[company.pk]),
        edit_data(company, capital_yen="1"),
    )

    assert response.status_code == 403
    company.refresh_from_db()
    assert company.capital_yen == 12_345_678


# --- contacts -------------------------------------------------------------------


def test_owner_adds_a_contact_shown_on_the_page(staff_a, company):
    client = client_for(staff_a)

    response = client.post(
        reverse("crm:contact-create", args=[company.pk]),
        {
            "name": "田中 花子",
            "name_kana": "タナカ ハナコ",
            "title": "知財部長",
            "email": "ｈａｎａｋｏ@example.co.jp",
            "phone": "０３ー１２３４ー５６７８",
        },
    )

    assert response.status_code == 302
    contact = Contact.objects.get(company=company)
    assert contact.organisation.code == ORG_A
    assert contact.email == "hanako@example.co.jp"
    body = client.get(response["Location"]).content.decode()
    assert "田中 花子" in body and "03-1234-5678" in body


def test_a_bad_email_is_shown_beside_the_field_and_the_name_is_kept(staff_a, company):
    response = client_for(staff_a).post(
        reverse("crm:contact-create", args=[company.pk]),
        {"name": "田中 花子", "email": "hanako@", "phone": "03-1234-5678"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "メールアドレスの形式が正しくありません" in field_error(body, "email")
    assert 'value="田中 花子"' in body
    assert 'value="03-1234-5678"' in body
    assert not Contact.objects.exists()


def test_owner_edits_a_contact(staff_a2, contact):
    client = client_for(staff_a2)
    url = reverse("crm:contact-edit", args=[contact.pk])
    assert 'value="佐藤 一郎"' in client.get(url).content.decode()

    response = client.post(url, {"name": "佐藤 一朗", "title": "代表取締役"})

    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.name, contact.title, contact.email) == (
        "佐藤 一朗",
        "代表取締役",
        "",
    )
    assert AuditEvent.objects.filter(
        action="contact.update", object_id=str(contact.pk)
    ).exists()


def test_a_contact_edit_error_keeps_what_was_typed(staff_a, contact):
    response = client_for(staff_a).post(
        reverse("crm:contact-edit", args=[contact.pk]),
        {"name": "佐藤 一郎", "title": "部長", "phone": "03-12ab"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "電話番号は数字とハイフン" in field_error(body, "phone")
    assert 'value="部長"' in body
    contact.refresh_from_db()
    assert contact.title == "社長"


def test_owner_removes_a_contact_after_confirming(staff_a, contact):
    client = client_for(staff_a)
    url = reverse("crm:contact-delete", args=[contact.pk])
    confirm = client.get(url).content.decode()
    assert "この担当者を削除しますか" in confirm and "佐藤 一郎" in confirm

    response = client.post(url)

    assert response.status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()
    body = client.get(response["Location"]).content.decode()
    assert "担当者「佐藤 一郎」を削除しました。" in body
    event = AuditEvent.objects.get(action="contact.delete")
    assert event.data["changes"]["name"] == ["佐藤 一郎", None]


def test_a_contact_who_consented_is_not_removed(staff_a, network, contact):
    ConsentFactory(
        company=contact.company, organisation=network[ORG_A], contact=contact
    )

    response = client_for(staff_a).post(
        reverse("crm:contact-delete", args=[contact.pk])
    )

    assert response.status_code == 409
    assert "同意または第三者提供記録に記録されているため削除できません" in (
        response.content.decode()
    )
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_another_organisations_contact_has_no_button_and_is_refused(
    staff_a, network, company
):
    """B recorded a contact for the company (B registered it first): A sees it, may not change it."""
    theirs = ContactFactory(
        company=company, organisation=network[ORG_B], name="大阪 太郎"
    )
    client = client_for(staff_a)

    body = page(staff_a, company)
    assert "大阪 太郎" in body
    assert reverse("crm:contact-edit", args=[theirs.pk]) not in body
    assert client.get(reverse("crm:contact-edit", args=[theirs.pk])).status_code == 403
    edited = client.post(reverse("crm:contact-edit", args=[theirs.pk]), {"name": "x"})
    removed = client.post(reverse("crm:contact-delete", args=[theirs.pk]))

    assert edited.status_code == 403
    assert removed.status_code == 403
    theirs.refresh_from_db()
    assert theirs.name == "大阪 太郎"


def test_hub_coordinator_may_not_add_change_or_remove_contacts(
    hub_coordinator, company, consent, contact
):
    client = client_for(hub_coordinator)

    added = client.post(
        reverse("crm:contact-create", args=[company.pk]), {"name": "ハブ 追加"}
    )
    edited = client.post(
        reverse("crm:contact-edit", args=[contact.pk]), {"name": "ハブ 変更"}
    )
    removed = client.post(reverse("crm:contact-delete", args=[contact.pk]))

    assert (added.status_code, edited.status_code, removed.status_code) == (
        403,
        403,
        403,
    )
    assert list(Contact.objects.values_list("name", flat=True)) == ["佐藤 一郎"]


def test_unrelated_organisation_may_not_add_and_does_not_see_contacts(
    staff_b, company, contact
):
    client = client_for(staff_b)

    added = client.post(
        reverse("crm:contact-create", args=[company.pk]), {"name": "外部 追加"}
    )
    edited = client.post(
        reverse("crm:contact-edit", args=[contact.pk]), {"name": "外部 変更"}
    )
    removed = client.post(reverse("crm:contact-delete", args=[contact.pk]))

    assert added.status_code == 403
    # Someone else's contact does not exist for them (404, never 403).
    assert (edited.status_code, removed.status_code) == (404, 404)
    assert "佐藤 一郎" not in edited.content.decode()
    assert list(Contact.objects.values_list("name", flat=True)) == ["佐藤 一郎"]


# --- consents -------------------------------------------------------------------


def consent_post(**overrides) -> dict:
    data = {
        "scope": "network",
        "obtained_on": timezone.localdate().isoformat(),
        "method": "written",
        "contact": "",
    }
    data.update(overrides)
    return data


def test_the_consent_form_defaults_to_today_and_lists_visible_contacts(
    staff_a, company, contact
):
    body = (
        client_for(staff_a)
        .get(reverse("crm:consent-create", args=[company.pk]))
        .content.decode()
    )

    assert f'value="{timezone.localdate().isoformat()}"' in body
    assert f'<option value="{contact.pk}">佐藤 一郎' in body
    assert "企業等の同意" in body and "担当者本人の同意" in body
    assert 'value="yorozu-27">' in body  # organisations to choose from
    assert 'value="inpit-window-13">' not in body  # not one's own organisation


def test_owner_records_a_company_consent_for_the_network(staff_a, company):
    client = client_for(staff_a)

    response = client.post(
        reverse("crm:consent-create", args=[company.pk]), consent_post()
    )

    assert response.status_code == 302
    consent = Consent.objects.get(company=company)
    assert (consent.scope, consent.contact, consent.organisation.code) == (
        "network",
        None,
        ORG_A,
    )
    body = client.get(response["Location"]).content.decode()
    assert "企業等の同意" in body and "ネットワーク全体" in body


def test_owner_records_a_contacts_own_consent_for_chosen_organisations(
    staff_a, network, company, contact
):
    client = client_for(staff_a)
    obtained = timezone.localdate() - dt.timedelta(days=3)

    response = client.post(
        reverse("crm:consent-create", args=[company.pk]),
        consent_post(
            scope="organisations",
            organisations=[ORG_B, "jpaa-kanto"],
            obtained_on=obtained.isoformat(),
            method="electronic",
            contact=str(contact.pk),
        ),
    )

    assert response.status_code == 302
    consent = Consent.objects.get(company=company)
    assert consent.contact == contact
    assert consent.obtained_on == obtained
    assert sorted(consent.organisations.values_list("code", flat=True)) == sorted(
        [ORG_B, "jpaa-kanto"]
    )
    body = client.get(response["Location"]).content.decode()
    assert "担当者本人の同意（佐藤 一郎）" in body
    assert network[ORG_B].name in body


def test_chosen_organisations_without_any_is_an_error_beside_the_field(
    staff_a, company
):
    past = (timezone.localdate() - dt.timedelta(days=10)).isoformat()

    response = client_for(staff_a).post(
        reverse("crm:consent-create", args=[company.pk]),
        consent_post(scope="organisations", obtained_on=past, method="verbal"),
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert "提供先の組織を1つ以上指定してください" in field_error(body, "organisations")
    assert f'value="{past}"' in body
    assert re.search(r'value="verbal"[^>]*checked', body)
    assert not Consent.objects.exists()


def test_a_future_obtained_on_is_an_error_beside_the_field(staff_a, company):
    future = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    response = client_for(staff_a).post(
        reverse("crm:consent-create", args=[company.pk]),
        consent_post(obtained_on=future),
    )

    assert response.status_code == 400
    assert "未来の日付" in field_error(response.content.decode(), "obtained_on")
    assert not Consent.objects.exists()


def test_owner_withdraws_a_consent_from_the_page(staff_a, company, consent):
    client = client_for(staff_a)
    url = reverse("crm:consent-withdraw", args=[consent.pk])
    assert "撤回を記録する" in client.get(url).content.decode()

    response = client.post(url)

    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None
    assert consent.withdrawn_by == staff_a.user
    body = client.get(response["Location"]).content.decode()
    assert "撤回済み" in body
    assert url not in body
    again = client.post(url, follow=True).content.decode()
    assert "この同意は既に撤回されています。" in again


def test_hub_coordinator_may_not_record_or_withdraw_consents(
    hub_coordinator, company, consent
):
    client = client_for(hub_coordinator)

    assert (
        client.get(reverse("crm:consent-create", args=[company.pk])).status_code == 403
    )
    recorded = client.post(
        reverse("crm:consent-create", args=[company.pk]), consent_post()
    )
    withdrawn = client.post(reverse("crm:consent-withdraw", args=[consent.pk]))

    assert recorded.status_code == 403
    assert withdrawn.status_code == 403
    assert Consent.objects.count() == 1
    consent.refresh_from_db()
    assert consent.withdrawn_at is None


def test_unrelated_organisation_may_not_record_and_does_not_see_consents(
    staff_b, company, consent
):
    client = client_for(staff_b)

    recorded = client.post(
        reverse("crm:consent-create", args=[company.pk]), consent_post()
    )
    withdrawn = client.post(reverse("crm:consent-withdraw", args=[consent.pk]))

    assert recorded.status_code == 403
    assert withdrawn.status_code == 404
    assert Consent.objects.count() == 1
    consent.refresh_from_db()
    assert consent.withdrawn_at is None
