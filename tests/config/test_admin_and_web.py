"""The admin (in Japanese) and the web UI's entry pages."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.crm.factories import CaseFactory, ConsultationFactory

MODELS = [
    m
    for m in admin.site._registry
    if m._meta.app_label in {"support_network", "crm", "programs"}
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_model_has_a_working_admin_changelist(
    client, network, superuser_actor, model
):
    ConsultationFactory(case=CaseFactory(created_by=superuser_actor.user))
    client.force_login(superuser_actor.user)
    opts = model._meta

    response = client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    )

    assert response.status_code == 200
    assert str(opts.verbose_name_plural) in response.content.decode()


def test_admin_speaks_japanese(client, superuser_actor):
    client.force_login(superuser_actor.user)

    html = client.get(reverse("admin:index")).content.decode()

    assert "知財経営支援 CRM 管理画面" in html
    assert "組織" in html and "相談記録" in html


def test_admin_company_form_saves_through_the_service(client, network, superuser_actor):
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_add"),
        {
            "name": "（株）管理画面テスト",
            "name_kana": "カンリガメンテスト",
            "kind": "corporation",
            "prefecture": "13",
            "industry": "Ｅ",
            "capital_yen": "1000000",
            "employees": "3",
        },
    )

    assert response.status_code == 302
    from crm.models import AuditEvent, Company

    company = Company.objects.get(name="（株）管理画面テスト")
    assert (company.name_key, company.industry, company.size_class) == (
        "管理画面テスト",
        "E",
        "micro",
    )
    assert AuditEvent.objects.filter(
        action="company.create", object_id=str(company.pk)
    ).exists()


def test_login_page_is_japanese_and_home_needs_login(client, db):
    assert client.get("/").status_code == 302
    html = client.get("/login/").content.decode()
    assert "ログイン" in html and 'lang="ja"' in html


def test_home_shows_the_users_organisations(client, staff_a):
    client.force_login(staff_a.user)

    html = client.get("/").content.decode()

    assert "東京都知財総合支援窓口" in html
    assert "窓口担当者" in html


def test_admin_company_form_shows_a_japanese_error_for_a_bad_check_digit(
    client, network, superuser_actor
):
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_add"),
        {
            "name": "誤番号株式会社",
            "kind": "corporation",
            "prefecture": "13",
            "corporate_number": "2180301018771",
        },
    )

    assert response.status_code == 200
    assert "チェックデジット" in response.content.decode()
    from crm.models import Company

    assert not Company.objects.filter(name="誤番号株式会社").exists()


def test_admin_merges_two_selected_duplicates_into_the_numbered_one(
    client, network, superuser_actor
):
    from crm.models import Case
    from tests.crm.factories import CompanyFactory

    loose = CompanyFactory(name="株式会社重複", corporate_number=None)
    numbered = CompanyFactory(name="株式会社重複", corporate_number="1180301018771")
    case = CaseFactory(company=loose)
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_changelist"),
        {"action": "merge_duplicates", "_selected_action": [loose.pk, numbered.pk]},
        follow=True,
    )

    loose.refresh_from_db()
    assert loose.merged_into == numbered
    assert Case.objects.get(pk=case.pk).company == numbered
    assert "統合しました" in response.content.decode()


def test_admin_merge_needs_exactly_two(client, network, superuser_actor):
    from tests.crm.factories import CompanyFactory

    only = CompanyFactory()
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_changelist"),
        {"action": "merge_duplicates", "_selected_action": [only.pk]},
        follow=True,
    )

    only.refresh_from_db()
    assert only.merged_into is None
    assert "ちょうど2件" in response.content.decode()
