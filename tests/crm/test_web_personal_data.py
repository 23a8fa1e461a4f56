"""Web pages of personal data (APPI): the company page's buttons for org admins,
the confirmation pages of 開示請求 and 利用停止・消去, and 個人情報の管理
(保存期間 and the 個人情報ファイル簿 draft)."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from django.test import Client

from crm.exports.files import export_file_path
from crm.models import AuditEvent, Contact, Export, RetentionPolicy
from crm.rules.personal_data import ERASED_MARKER, PERSONAL_ITEMS
from crm.services.contacts import contact_create
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory

pytestmark = pytest.mark.django_db

DISCLOSE = "開示請求への対応（データを書き出す）"
ERASE = "利用停止・消去"


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.fixture
def admin_a(network):
    return make_actor(ORG_A, "org_admin")


@pytest.fixture
def contact(network, staff_a):
    company = CompanyFactory(name="株式会社ウェブ開示", registered_by=network[ORG_A])
    return contact_create(
        actor=staff_a, company=company, name="山本 桜", email="sakura@example.jp"
    )


def test_company_page_shows_the_buttons_to_org_admins_only(contact, admin_a, staff_a):
    url = f"/companies/{contact.company_id}/"
    page = client_for(admin_a).get(url).content.decode()
    assert DISCLOSE in page and ERASE in page
    page = client_for(staff_a).get(url).content.decode()
    assert DISCLOSE not in page and ERASE not in page
    assert client_for(staff_a).get(f"/contacts/{contact.pk}/erase/").status_code == 403
    assert (
        client_for(staff_a).get(f"/contacts/{contact.pk}/disclosure/").status_code
        == 403
    )


def test_disclosure_from_the_web(contact, admin_a, django_capture_on_commit_callbacks):
    client = client_for(admin_a)
    page = client.get(f"/contacts/{contact.pk}/disclosure/")
    assert page.status_code == 200 and "書き出しを開始する" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/contacts/{contact.pk}/disclosure/")
    export = Export.objects.get(kind="disclosure")
    assert answer.status_code == 302
    assert answer["Location"] == f"/contacts/{contact.pk}/disclosure/{export.pk}/"
    page = client.get(answer["Location"]).content.decode()
    assert "ZIP ファイルをダウンロード" in page
    download = client.get(f"/statistics/exports/{export.pk}/download/")
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert "disclosure.json" in names
    assert export_file_path(export).exists()


def test_erase_from_the_web_needs_a_reason(contact, admin_a):
    client = client_for(admin_a)
    page = client.get(f"/contacts/{contact.pk}/erase/")
    assert page.status_code == 200 and "消去は元に戻せません" in page.content.decode()
    answer = client.post(f"/contacts/{contact.pk}/erase/", {"reason": " "})
    assert answer.status_code == 400
    assert Contact.objects.get(pk=contact.pk).name == "山本 桜"

    answer = client.post(f"/contacts/{contact.pk}/erase/", {"reason": "本人の書面請求"})

    assert answer.status_code == 302
    assert Contact.objects.get(pk=contact.pk).name == ERASED_MARKER
    page = client.get(f"/companies/{contact.company_id}/").content.decode()
    assert "山本" not in page and ERASE not in page  # nothing left to erase


def test_personal_data_page_sets_the_policy(admin_a, staff_a):
    client = client_for(admin_a)
    page = client.get("/personal-data/").content.decode()
    assert "保存期間" in page and "個人情報ファイル簿（案）" in page
    assert 'value="5"' in page
    answer = client.post("/personal-data/", {"years_after_close": "31"})
    assert answer.status_code == 400
    assert "1から30" in answer.content.decode()
    answer = client.post(
        "/personal-data/", {"years_after_close": "8", "is_active": "on"}
    )
    assert answer.status_code == 302
    policy = RetentionPolicy.objects.get()
    assert (policy.years_after_close, policy.is_active) == (8, True)
    assert client_for(staff_a).get("/personal-data/").status_code == 403


def test_file_book_downloads(admin_a, staff_a):
    client = client_for(admin_a)
    answer = client.get("/personal-data/file-book.csv")
    assert answer.status_code == 200
    data = b"".join(answer.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["記録の種類", "項目", "利用目的"]
    assert len(rows) == 1 + len(PERSONAL_ITEMS)
    assert rows[1][:2] == ["担当者", "氏名"]
    answer = client.get("/personal-data/file-book.xlsx")
    sheet = openpyxl.load_workbook(
        io.BytesIO(b"".join(answer.streaming_content))
    ).active
    assert sheet["B2"].value == "氏名"
    assert AuditEvent.objects.filter(action="file_book.download").count() == 2
    assert client.get("/personal-data/file-book.pdf").status_code == 404
    assert client_for(staff_a).get("/personal-data/file-book.csv").status_code == 403


def test_legal_hold_from_the_case_page(network, manager_a, staff_a):
    from crm.models import Case
    from tests.crm.factories import CaseFactory

    case = CaseFactory(organisation=network[ORG_A])
    url = f"/cases/{case.pk}/"
    assert "法的保全を設定する" not in client_for(staff_a).get(url).content.decode()
    assert (
        client_for(staff_a)
        .post(f"/cases/{case.pk}/legal-hold/", {"on": "on", "reason": "訴訟"})
        .status_code
        == 403
    )
    client = client_for(manager_a)
    assert "法的保全を設定する" in client.get(url).content.decode()
    answer = client.post(f"/cases/{case.pk}/legal-hold/", {"on": "on", "reason": ""})
    assert answer.status_code == 302
    assert Case.objects.get(pk=case.pk).is_on_legal_hold is False
    client.post(f"/cases/{case.pk}/legal-hold/", {"on": "on", "reason": "訴訟対応"})
    case.refresh_from_db()
    assert (case.is_on_legal_hold, case.legal_hold_reason) == (True, "訴訟対応")
    assert "法的保全を解除する" in client.get(url).content.decode()
    client.post(f"/cases/{case.pk}/legal-hold/", {"on": ""})
    assert Case.objects.get(pk=case.pk).is_on_legal_hold is False
