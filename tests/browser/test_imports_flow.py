"""Bringing history in, in a real browser: upload → report → commit → undo.

A coordinator opens 取込 from the menu, uploads an xlsx of three 相談記録
(和暦 and 西暦 dates, one bad row), reads the dry-run report (the bad row by
line and field), commits with the progress bar following a real Celery
worker, and undoes the import: the consultations are gone again.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from config.celery import app as celery_app
from crm.models import Company, Consultation, Import
from tests.browser.conftest import assert_assets_loaded
from tests.conftest import make_actor
from tests.crm.import_files import xlsx_bytes
from tests.crm.test_reminders_worker import start_worker, stop

PASSWORD = "pass-1234-word"
ORG = "inpit-window-13"


def _route_imports_to(queue: str | None) -> None:
    """Send the import tasks to `queue` (None: back to the default routes)."""
    celery_app.conf.task_routes = (
        {"crm.import_validate": {"queue": queue}, "crm.import_commit": {"queue": queue}}
        if queue
        else None
    )
    celery_app.amqp.flush_routes()
    del celery_app.amqp.router  # a cached Router keeps the old table


@pytest.fixture
def import_worker():
    queue = f"imports-browser-{os.getpid()}"
    _route_imports_to(queue)
    worker = start_worker(queue, concurrency=1)
    try:
        yield worker
    finally:
        stop(worker)
        _route_imports_to(None)


def test_coordinator_uploads_reads_the_report_commits_and_undoes(
    page, shot, log_in, network, import_worker, tmp_path
):
    coordinator = make_actor(ORG, "coordinator", username="import-browser-coord")
    rows = [
        [
            "令和6年4月1日",
            "10:00",
            "株式会社ブラウザ工業",
            "",
            "東京都",
            "来所",
            "特許、商標",
            "",
            "1時間30分",
            "特許出願の相談",
            "",
            "",
            "",
            "",
        ],
        [
            "2024/5/20",
            "",
            "株式会社ブラウザ工業",
            "",
            "東京都",
            "電話",
            "商標",
            "",
            "30分",
            "商標の相談",
            "",
            "",
            "",
            "",
        ],
        [
            "平成31年5月1日",
            "",
            "株式会社ブラウザ工業",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            "誤った日付",
            "",
            "",
            "",
            "",
        ],
    ]
    path = tmp_path / "相談記録.xlsx"
    path.write_bytes(xlsx_bytes(rows))

    log_in(coordinator.user.username, PASSWORD)
    page.get_by_role("link", name="取込", exact=True).click()
    page.wait_for_url("**/imports/")
    assert_assets_loaded(page)
    page.get_by_label("ファイル（xlsx または CSV）").set_input_files(str(path))
    page.get_by_role("button", name="アップロードして確認").click()
    page.wait_for_url("**/imports/*/")
    # The dry run runs on the worker; the page polls, then shows the report.
    expect(page.locator("#report-valid")).to_have_text("2", timeout=30_000)
    expect(page.locator("#report-rows")).to_have_text("3")
    expect(page.locator("#report-new")).to_have_text("1")
    errors = page.locator("#import-errors tbody tr")
    expect(errors).to_have_count(1)
    expect(errors.first).to_contain_text("4")
    expect(errors.first).to_contain_text("相談日")
    expect(errors.first).to_contain_text("令和元年5月1日")
    shot("report")
    assert Consultation.objects.count() == 0

    page.get_by_role("button", name="登録する").click()
    expect(page.locator("#import-status")).to_have_text("取込済み", timeout=30_000)
    expect(page.locator("#import-created")).to_contain_text("相談記録 2 件")
    shot("committed")
    imp = Import.objects.get()
    assert Consultation.objects.filter(import_id=imp.pk).count() == 2
    assert Company.objects.filter(name="株式会社ブラウザ工業").count() == 1

    page.get_by_role("button", name="取込を取り消す").click()
    expect(page.locator("#import-status")).to_have_text("取消済み")
    expect(page.get_by_role("status")).to_contain_text("取込を取り消しました")
    shot("undone")
    assert Consultation.objects.count() == 0
    assert not Company.objects.filter(name="株式会社ブラウザ工業").exists()
