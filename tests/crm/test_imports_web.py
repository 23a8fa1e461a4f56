"""The imports page (/imports/): who sees it, the mapping screen, the report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from crm.models import Import, ImportMapping
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.import_files import xlsx_bytes

pytestmark = pytest.mark.django_db

HEADER = ["整理日", "企業名", "都道府県", "相談方法", "分野", "時間", "相談内容"]
ROW = ["2024/4/1", "株式会社ウェブ", "東京都", "電話", "特許", "60", "相談"]


def client_of(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("window_staff", False),
        ("expert", False),
        ("coordinator", True),
        ("manager", True),
        ("org_admin", True),
    ],
)
def test_menu_and_page_only_for_coordinators_managers_org_admins(
    role, allowed, network
):
    client = client_of(make_actor(ORG_A, role, f"web-import-{role}"))
    home = client.get("/").content.decode()
    assert ('href="/imports/"' in home) is allowed
    response = client.get("/imports/")
    assert response.status_code == (200 if allowed else 403)
    response = client.post(
        "/imports/", {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([ROW], HEADER))}
    )
    assert response.status_code == (302 if allowed else 403)
    assert Import.objects.count() == (1 if allowed else 0)


def test_mapping_screen_maps_an_unknown_column_and_checks_again(
    network, django_capture_on_commit_callbacks
):
    coordinator = make_actor(ORG_A, "coordinator", "web-import-map")
    client = client_of(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/imports/",
            {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([ROW], HEADER))},
        )
    imp = Import.objects.get()
    assert response["Location"] == f"/imports/{imp.pk}/"
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert "「相談日」の列がありません。列の対応を指定してください。" in page
    # The unrecognised column comes first on the mapping screen.
    assert 0 < page.index(">整理日</label>") < page.index(">企業名</label>")
    form = {f"map-{i}": "" for i in range(len(HEADER))}
    rows = sorted(Import.objects.get().mapping.items())
    for i, (header, field) in enumerate(rows):
        form[f"map-{i}"] = "occurred_on" if header == "整理日" else field
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{imp.pk}/mapping/", form)
    imp.refresh_from_db()
    assert (imp.status, imp.valid_rows, imp.errors) == ("ready", 1, [])
    assert ImportMapping.objects.get().mapping["整理日"] == "occurred_on"
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    assert '<dd id="report-valid">1</dd>' in page
    assert "登録する" in page


def test_another_organisations_import_is_not_found(network):
    owner = make_actor(ORG_A, "coordinator", "web-import-owner")
    other = make_actor(ORG_B, "coordinator", "web-import-other")
    client_of(owner).post(
        "/imports/", {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([ROW], HEADER))}
    )
    imp = Import.objects.get()
    client = client_of(other)
    assert client.get(f"/imports/{imp.pk}/").status_code == 404
    assert client.get(f"/imports/{imp.pk}/status/").status_code == 404
    assert client.post(f"/imports/{imp.pk}/commit/").status_code == 404
    assert client.post(f"/imports/{imp.pk}/undo/").status_code == 404
