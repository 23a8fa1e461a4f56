"""An IPAS enrolment from the case page to active support, in a real browser.

A window of INPIT 東京都窓口 applies for IPAS on behalf of a startup from its
case page; INPIT's coordinator (IPAS's operator) finds it on the program page,
takes it through screening and acceptance to active support (the end date is
set five months on), forms the mentoring team (IP expert + business expert)
and records the support plan. The window then sees the enrolment, now active,
on its case page.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from programs.models import Enrolment, SupportPlan, TeamMember
from programs.services.enrolments import add_months
from support_network.calendar import fiscal_year
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsultationFactory
from tests.programs.factories import ProgramRoundFactory, program

PASSWORD = "pass-1234-word"


@pytest.fixture
def window(network):
    return make_actor("inpit-window-13", "window_staff", username="inpit-tokyo-window")


@pytest.fixture
def inpit_coordinator(network):
    return make_actor("inpit", "coordinator", username="inpit-coordinator")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_load_state()


def test_window_applies_for_ipas_and_inpit_takes_it_to_active_support(
    page: Page, log_in, shot, network, window, inpit_coordinator
):
    today = timezone.localdate()
    fy = fiscal_year(today)
    ProgramRoundFactory(program=program("ipas"), fiscal_year=fy, capacity=20)
    company = CompanyFactory(
        name="株式会社ディープテック試作",
        name_kana="ディープテックシサク",
        registered_by=network["inpit-window-13"],
        founded_on=today - dt.timedelta(days=3 * 365),
        employees=6,
    )
    case = CaseFactory(
        company=company,
        organisation=network["inpit-window-13"],
        created_by=window.user,
        assignee=window.user,
        title="資金調達前の知財戦略",
    )
    ConsultationFactory(case=case, author=window.user)
    ip_expert = make_actor("jpaa-kanto", "expert", username="benrishi-yamada")
    business_expert = make_actor("inpit", "expert", username="vc-suzuki")

    # The window applies from the case page.
    log_in(window.user.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#enrolments")).to_contain_text(
        "支援事業への申込はありません。"
    )
    page.get_by_role("link", name="支援事業に申し込む").first.click()
    page.get_by_label("支援事業").select_option("ipas")
    expect(page.get_by_label("年度")).to_have_value(str(fy))
    shot("01-apply-form")
    page.get_by_role("button", name="申し込む").click()
    page.wait_for_url(re.compile(r"/enrolments/\d+/$"))
    expect(page.locator("#enrolment-status")).to_have_text("申込")
    expect(page.locator("#status")).to_contain_text(
        "状態を変更できるのは実施機関（独立行政法人工業所有権情報・研修館 (INPIT)）"
    )
    shot("02-applied")
    enrolment = Enrolment.objects.get(company=company)
    assert enrolment.case == case
    log_out(page)

    # INPIT's coordinator finds it on the IPAS page and moves it along.
    log_in(inpit_coordinator.user.username, PASSWORD)
    page.get_by_role("link", name="支援事業", exact=True).click()
    page.get_by_role("link", name="IPAS 知財アクセラレーションプログラム").click()
    expect(page.locator("#rounds")).to_contain_text(f"{fy}年度（令和{fy - 2018}年度）")
    shot("03-program-page")
    page.get_by_role("link", name="株式会社ディープテック試作").click()
    for button, status in [
        ("審査を開始する", "審査中"),
        ("採択する", "採択"),
        ("支援を開始する", "支援中"),
    ]:
        page.get_by_role("button", name=button).click()
        page.wait_for_load_state()
        expect(page.locator("#enrolment-status")).to_have_text(status)
    ends_on = add_months(today, 5)
    expect(page.locator("#ends-on")).to_have_text(f"{ends_on:%Y/%-m/%-d}")

    # The mentoring team: an IP expert and a business expert.
    team = page.locator("#team")
    expect(team).to_contain_text("未配置の役割: 知財専門家、ビジネス専門家")
    for expert, role in [
        (ip_expert, "知財専門家"),
        (business_expert, "ビジネス専門家"),
    ]:
        team.get_by_label("専門家").select_option(str(expert.membership.pk))
        team.get_by_label("役割").select_option(label=role)
        team.get_by_role("button", name="チームに加える").click()
        page.wait_for_load_state()
    expect(page.locator("#team")).to_contain_text("benrishi-yamada")
    expect(page.locator("#team")).not_to_contain_text("未配置の役割")

    # The support plan.
    page.get_by_label("目標").fill(
        "コア技術の特許ポートフォリオ案と、資金調達に向けた知財戦略を5か月で固める。"
    )
    page.get_by_role("button", name="支援計画を登録").click()
    page.wait_for_load_state()
    expect(page.locator("#plan-goals")).to_contain_text("特許ポートフォリオ案")
    shot("04-active-with-team-and-plan")

    enrolment.refresh_from_db()
    assert enrolment.status == "active"
    assert enrolment.started_on == today
    assert enrolment.ends_on == ends_on
    assert TeamMember.objects.filter(enrolment=enrolment).count() == 2
    assert SupportPlan.objects.get(enrolment=enrolment).period == 1
    log_out(page)

    # Back on the case page, the window sees the enrolment active.
    log_in(window.user.username, PASSWORD)
    page.goto(f"/cases/{case.pk}/")
    expect(page.locator("#enrolments")).to_contain_text("支援中")
    shot("05-case-page")


def test_a_subsidy_estimate_is_explained_line_by_line(page: Page, log_in, shot, window):
    log_in(window.user.username, PASSWORD)
    page.goto("/programs/")
    page.get_by_role(
        "link", name="中小企業等外国出願支援事業"
    ).click()
    estimate = page.locator("#estimate")
    estimate.get_by_label("交付済みの額（円）").fill("1000000")
    estimate.get_by_label("1件目の権利").select_option("patent")
    estimate.get_by_label("1件目の費用（円）").fill("3000002")
    estimate.get_by_label("2件目の権利").select_option("trademark")
    estimate.get_by_label("2件目の費用（円）").fill("1000001")
    estimate.get_by_role("button", name="見積もる").click()
    page.wait_for_load_state()

    result = page.locator("#estimate-result")
    expect(result).to_contain_text(
        "特許: 3,000,002円 × 1/2 = 1,500,001円 → 1,500,000円（1件上限 1,500,000円）"
    )
    expect(result).to_contain_text("交付済み 1,000,000円 = 残り 2,000,000円")
    expect(page.locator("#estimate-total")).to_have_text("2,000,000円")
    # What was typed stays in the form.
    expect(estimate.get_by_label("1件目の費用（円）")).to_have_value("3000002")
    shot("01-estimate")
