"""The managers' page in a real browser: charts drawn, an export built and downloaded.

A manager of 関東経済産業局 opens /statistics/ for FY2025 (the managers'
page data set of tests/crm/test_web_statistics.py), sees the five charts
drawn by the vendored Chart.js, then exports the consultation statistics
as xlsx: the page posts the request, a real Celery worker (a subprocess on
the test database, on a queue of its own) builds the file, the progress bar
follows it to 100% and the download link gives the file, which openpyxl
opens.
"""

from __future__ import annotations

import io
import os

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from config.celery import app as celery_app
from crm.models import Export
from tests.browser.conftest import assert_assets_loaded
from tests.conftest import make_actor
from tests.crm.test_reminders_worker import start_worker, stop
from tests.crm.test_web_statistics import build_dataset

PASSWORD = "pass-1234-word"
CHARTS = ("month", "prefecture", "topic", "referrals", "programs", "startup")


def _route_exports_to(queue: str | None) -> None:
    """Send crm.export_build to `queue` (None: back to the default routes).

    Other suites share the machine's Redis: the test's worker listens on a
    queue of its own, so the page's export must be routed there.
    """
    celery_app.conf.task_routes = (
        {"crm.export_build": {"queue": queue}} if queue else None
    )
    celery_app.amqp.flush_routes()
    del celery_app.amqp.router  # a cached Router keeps the old table


@pytest.fixture
def export_worker(settings, tmp_path, monkeypatch):
    """A real worker building exports into a directory the live server reads."""
    settings.EXPORT_DIR = tmp_path / "exports"
    monkeypatch.setenv("CRM_EXPORT_DIR", str(settings.EXPORT_DIR))
    queue = f"statistics-browser-{os.getpid()}"
    _route_exports_to(queue)
    worker = start_worker(queue, concurrency=1)
    try:
        yield worker
    finally:
        stop(worker)
        _route_exports_to(None)


def test_manager_sees_the_charts_and_downloads_an_export(
    page: Page, log_in, shot, network, export_worker
):
    build_dataset(network)
    manager = make_actor("bureau-kanto", "manager", username="browser-kanto-manager")

    log_in(manager.user.username, PASSWORD)
    page.get_by_role("link", name="統計", exact=True).click()
    page.get_by_label("年度", exact=True).select_option("2025")
    page.get_by_role("button", name="表示", exact=True).click()
    page.wait_for_url("**/statistics/?fiscal_year=2025*")
    assert_assets_loaded(page)

    # KPI tiles and the charts: one Chart.js chart per canvas, drawn.
    expect(page.locator("#kpi-consultations .kpi-value")).to_have_text("6")
    expect(page.locator("#kpi-acceptance_rate .kpi-value")).to_have_text("50.0%")
    for key in CHARTS:
        expect(page.locator(f"#chart-{key}")).to_have_attribute(
            "data-chart-ready", "true"
        )
    drawn = page.evaluate(
        """() => Object.values(Chart.instances).map(c => ({
              id: c.canvas.id,
              type: c.config.type,
              labels: c.data.labels.length,
              width: c.width,
              height: c.height,
            }))"""
    )
    assert sorted(c["id"] for c in drawn) == sorted(f"chart-{k}" for k in CHARTS)
    assert all(c["width"] > 100 and c["height"] > 100 for c in drawn), drawn
    by_id = {c["id"]: c for c in drawn}
    assert by_id["chart-month"]["labels"] == 12
    assert by_id["chart-prefecture"]["labels"] == 2  # 東京都, 長野県
    assert page.evaluate("Chart.version") == "4.6.1"
    # The table under the prefecture chart has the same numbers.
    expect(page.locator("#table-prefecture tbody")).to_contain_text("東京都")
    shot("01-charts")

    # Export the consultation statistics as xlsx; the worker builds it.
    page.get_by_label("出力する内容").select_option("consultation_statistics")
    page.get_by_label("形式", exact=True).select_option("xlsx")
    expect(page.get_by_label("文字コード（CSV）")).to_be_disabled()
    page.get_by_role("button", name="出力を開始").click()
    expect(page.locator("#export-status")).to_be_visible()
    expect(page.locator("#export-status")).to_have_attribute(
        "data-status", "done", timeout=60_000
    )
    assert page.evaluate("document.getElementById('export-progress').value") == 100
    expect(page.locator("#export-message")).to_contain_text("相談統計: 完了（100%）")
    shot("02-export-done")

    with page.expect_download() as info:
        page.get_by_role("link", name="ダウンロード").click()
    download = info.value
    assert download.suggested_filename.startswith("相談統計_2025年度_bureau-kanto_")
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as f:
        book = openpyxl.load_workbook(io.BytesIO(f.read()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("都道府県（対応組織）", "相談分野", "相談件数")
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合計")
    cells = {(r[0], r[1]): r[2] for r in rows[1:total_at]}
    assert cells[("東京都", "商標")] == 3
    assert rows[total_at][2] == 6
    # The KPI rows (「（成果）…」) follow the total.
    assert all(str(r[0]).startswith("（成果）") for r in rows[total_at + 1 :])
    export = Export.objects.get()
    assert (export.status, export.requested_by_id) == ("done", manager.user.pk)
