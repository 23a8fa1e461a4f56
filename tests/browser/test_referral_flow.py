"""A referral between two organisations, in a real browser (Debian's Chromium).

A よろず拠点 staff member refers a case to the INPIT 窓口, recording the
company's consent on the spot (APPI art. 27); the 窓口 accepts it from its
inbox and completes it with an outcome note, which the sender then reads on
the case timeline: the loop is closed.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from crm.models import Consent, ProvisionRecord, Referral
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsultationFactory

PASSWORD = "pass-1234-word"


@pytest.fixture
def sender(network):
    return make_actor("yorozu-13", "window_staff", username="yorozu-tokyo")


@pytest.fixture
def receiver(network):
    return make_actor("inpit-window-13", "window_staff", username="inpit-tokyo")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()


def test_referral_is_sent_accepted_and_completed_between_two_organisations(
    page: Page, log_in, shot, network, sender, receiver
):
    company = CompanyFactory(name="株式会社ループ工業", name_kana="ループコウギョウ")
    case = CaseFactory(
        company=company,
        organisation=network["yorozu-13"],
        created_by=sender.user,
        assignee=sender.user,
        title="販路開拓と特許の相談",
    )
    consultation = ConsultationFactory(case=case, author=sender.user)
    consultation.topics.create(topic="patent")

    # The sender refers the case; the company's consent is recorded on the spot.
    log_in(sender.user.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name="他機関へ紹介").click()
    page.get_by_label("紹介先").select_option("inpit-window-13")
    page.get_by_label("紹介理由").fill("特許出願の要否を判断してほしい。")
    shot("01-refer-form")
    page.get_by_role("button", name="紹介する").click()
    expect(page.locator("#consent")).to_contain_text("第三者提供の同意が必要です")
    expect(page.get_by_label("紹介理由")).to_have_value(
        "特許出願の要否を判断してほしい。"
    )
    shot("02-consent-needed")
    page.get_by_role("button", name="同意を記録して紹介する").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/"))
    expect(page.locator("#timeline")).to_contain_text("東京都知財総合支援窓口")
    shot("03-sent")
    referral = Referral.objects.get(case=case)
    assert referral.status == "sent"
    assert Consent.objects.filter(company=company, withdrawn_at=None).count() == 1
    assert ProvisionRecord.objects.filter(company=company).count() == 1
    log_out(page)

    # The receiving window accepts it from its inbox, then completes it.
    log_in(receiver.user.username, PASSWORD)
    expect(page.locator("#referrals-waiting")).to_contain_text("株式会社ループ工業")
    page.goto("/referrals/")
    shot("04-inbox")
    page.get_by_role("button", name="受け入れる").first.click()
    page.wait_for_load_state()
    referral.refresh_from_db()
    assert referral.status == "accepted"
    page.goto(f"/cases/{case.pk}/")
    page.get_by_label(re.compile("結果報告")).fill("出願を勧め、弁理士を紹介した。")
    shot("05-complete")
    page.get_by_role("button", name="完了にする").click()
    page.wait_for_load_state()
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert referral.outcome_note == "出願を勧め、弁理士を紹介した。"
    log_out(page)

    # The sender sees the outcome note on its own case: the loop is closed.
    log_in(sender.user.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator(f"#referral-{referral.pk}")).to_contain_text(
        "出願を勧め、弁理士を紹介した。"
    )
    shot("06-loop-closed")
