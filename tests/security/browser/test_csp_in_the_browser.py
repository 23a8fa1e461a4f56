"""The Content Security Policy breaks nothing (Debian's Chromium).

The `page` fixture fails a test on any console error, and Chromium reports
every script, style or eval the policy refuses as one. So these walk the
pages whose JavaScript the policy could break: the login, the organisation
switch (its former inline onchange= is now in static/js/app.js), the live
company search (htmx), and the Swagger UI at /api/docs/.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

PASSWORD = "pass-1234-word"


def test_pages_and_the_organisation_switch_work_under_the_policy(page, log_in, network):
    two_hats = make_actor("inpit-window-13", "window_staff", username="two-hats")
    make_actor("bureau-kanto", "coordinator", username="two-hats")
    CompanyFactory(name="株式会社ミライ精工", name_kana="ミライセイコウ")

    log_in(two_hats.user.username, PASSWORD)
    switch = page.locator("#org-switch")
    expect(switch).to_have_value("bureau-kanto")  # first by code
    with page.expect_navigation():
        switch.select_option("inpit-window-13")
    expect(page.locator("#org-switch")).to_have_value("inpit-window-13")

    page.goto("/companies/")
    page.get_by_role("searchbox").fill("ﾐﾗｲ")
    expect(page.locator("#results")).to_contain_text("ミライ精工")


def test_swagger_ui_renders_under_the_policy(page, network):
    response = page.goto("/api/docs/")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator(".info .title")).to_contain_text("知財経営支援 CRM API")
    page.get_by_text(re.compile("^/api/v1/prefectures/$")).first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()


def test_statistics_charts_draw_under_the_policy(page, log_in, network):
    """Chart.js and static/js/statistics.js: no inline script, no injected style."""
    manager = make_actor("inpit-window-13", "manager", username="stats-manager")

    log_in(manager.user.username, PASSWORD)
    page.goto("/statistics/")

    canvas = page.locator("canvas[data-chart]").first
    expect(canvas).to_be_visible()
    # Chart.js has drawn: the canvas got its size from the script.
    assert page.evaluate("() => document.querySelector('canvas[data-chart]').width > 0")
