"""Record upkeep in a real browser (Debian's Chromium): correct, void, close.

A window staff member finds the case in the case list, corrects one
consultation (訂正) and voids another (取消, with a reason). Window staff
may not close a case (DESIGN.md "Who may change what" rule 4: closing is
the owning organisation's coordinators, managers and org admins), so the
page offers them no close button; a coordinator of the same organisation
then closes it with a closing note.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.models import AuditEvent, Case, Consultation
from crm.services.consultations import consultation_create
from tests.browser.conftest import assert_assets_loaded
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

PASSWORD = "pass-1234-word"
ORG = "inpit-window-13"


@pytest.fixture
def staff(network):
    return make_actor(ORG, "window_staff", username="upkeep-browser-staff")


@pytest.fixture
def coordinator(network):
    return make_actor(ORG, "coordinator", username="upkeep-browser-coord")


def log(actor, company, *, days_ago: int, summary: str, case=None) -> Consultation:
    return consultation_create(
        actor=actor,
        company=company,
        case=case,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary=summary,
    )


def test_staff_corrects_and_voids_then_a_coordinator_closes_the_case(
    page, shot, log_in, staff, coordinator
):
    company = CompanyFactory(name="株式会社訂正精機")
    kept = log(staff, company, days_ago=3, summary="特許の相談（誤記あり）")
    wrong = log(staff, company, days_ago=1, summary="別の企業の相談", case=kept.case)
    case = kept.case

    log_in(staff.user.username, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="案件").click()
    assert_assets_loaded(page)
    page.get_by_role("link", name=f"#{case.pk} {case.title}").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))
    # Window staff may not close the case: no button for it.
    expect(page.get_by_role("button", name="案件を完了にする")).to_have_count(0)
    shot("01-case-as-staff")

    entry = page.locator(f"#consultation-{kept.pk}")
    entry.get_by_role("link", name="訂正").click()
    expect(page.get_by_role("heading", name="相談記録の訂正")).to_be_visible()
    assert_assets_loaded(page)
    summary = page.get_by_label("相談内容")
    expect(summary).to_have_value("特許の相談（誤記あり）")
    summary.fill("特許と商標の相談")
    page.locator("#id_topics").get_by_label("商標", exact=True).check()
    shot("02-correction")
    summary.press("Control+Enter")
    expect(page.get_by_role("status")).to_contain_text("相談記録を訂正しました。")
    expect(page.locator(f"#consultation-{kept.pk}")).to_contain_text("特許と商標の相談")

    page.locator(f"#consultation-{wrong.pk}").get_by_role("link", name="取消").click()
    expect(page.get_by_role("heading", name="相談記録の取消")).to_be_visible()
    expect(page.locator("#void-record")).to_contain_text("別の企業の相談")
    page.get_by_label("取消の理由").fill("別の企業の案件に入力した")
    shot("03-void")
    page.get_by_role("button", name="取り消す").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/#timeline$"))
    expect(page.get_by_role("status")).to_contain_text("を取り消しました。")
    expect(page.locator(f"#consultation-{wrong.pk}")).to_have_count(0)
    expect(page.locator("#timeline")).not_to_contain_text("別の企業の相談")

    page.get_by_role("button", name="ログアウト").click()
    log_in(coordinator.user.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_label("完了メモ").fill("出願方針が決まり支援を完了。")
    page.get_by_role("button", name="案件を完了にする").click()
    expect(page.get_by_role("status")).to_contain_text("案件を完了にしました。")
    expect(page.locator("#case-status")).to_contain_text("出願方針が決まり支援を完了。")
    expect(page.get_by_role("button", name="案件を再開する")).to_be_visible()
    shot("04-closed")

    kept.refresh_from_db()
    assert kept.summary == "特許と商標の相談"
    assert sorted(t.topic for t in kept.topics.all()) == ["patent", "trademark"]
    assert not Consultation.objects.filter(pk=wrong.pk).exists()
    closed = Case.objects.get(pk=case.pk)
    assert closed.status == "closed" and closed.closed_by == coordinator.user
    void = AuditEvent.objects.get(action="consultation.void")
    assert (
        void.actor == staff.user and void.data["reason"] == "別の企業の案件に入力した"
    )
