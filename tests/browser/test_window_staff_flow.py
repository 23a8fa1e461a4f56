"""A window staff member's day, in a real browser (Debian's Chromium).

Logs in through the login form, finds a company by a half-width kana
fragment, records a consultation (with the mouse, then keyboard only),
sees it on the case timeline and on "my work"; a failed submit keeps what
was typed; an inline new company that already exists offers "この企業等ですか？".
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.models import Company, Consultation, FollowUp
from tests.browser.conftest import assert_assets_loaded
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

PASSWORD = "pass-1234-word"
CASE_URL = re.compile(r"/cases/(\d+)/")
SUMMARY = "新型センサーの特許出願について相談。\n先行技術調査の進め方を説明した。"
NEXT_ACTION = "先行技術調査の結果を確認"


@pytest.fixture
def staff(network):
    return make_actor("inpit-window-13", "window_staff")


@pytest.fixture
def mirai(network) -> Company:
    return CompanyFactory(
        name="株式会社ミライ精工", name_kana="ミライセイコウ", city="大田区"
    )


@pytest.fixture
def other_companies(network) -> list[Company]:
    """One that the fragment also finds, one that it must not."""
    return [
        CompanyFactory(
            name="ミライ精工販売株式会社", name_kana="ミライセイコウハンバイ"
        ),
        CompanyFactory(name="株式会社ミライ食品", name_kana="ミライショクヒン"),
    ]


def week_later() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=7)


def month_day(day: dt.date) -> str:
    """The date my-work shows ("Y/n/j（D）", the weekday in Japanese)."""
    weekday = "月火水木金土日"[day.weekday()]
    return f"{day.year}/{day.month}/{day.day}（{weekday}）"


def tab_until(page: Page, selector: str, limit: int = 60, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element matches selector."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached with {limit} × {key}")


def focused_id(page: Page) -> str:
    return page.evaluate("() => document.activeElement.id")


def assert_saved_on_timeline(page: Page, company: Company, channel_label: str) -> int:
    """Check the case page after a save; return the case id."""
    match = CASE_URL.search(page.url)
    assert match, page.url
    expect(page.get_by_role("status")).to_contain_text("相談記録を保存しました。")
    entry = page.locator("#timeline li.ev.consultation").first
    expect(entry).to_contain_text(f"{channel_label} 45分")
    expect(entry.locator(".tag:not(.ip)", has_text="特許")).to_have_count(1)
    expect(entry).to_contain_text("先行技術調査の進め方を説明した。")
    expect(entry).to_contain_text(NEXT_ACTION)
    follow_up = page.locator("#timeline li.ev.follow-up")
    expect(follow_up).to_contain_text(week_later().strftime("%Y/%-m/%-d"))
    expect(page.locator(".crumb")).to_have_text(company.name)
    return int(match.group(1))


def test_staff_finds_company_by_half_width_kana_and_records_a_consultation(
    page, shot, log_in, staff, mirai, other_companies
):
    log_in(staff.user.username, PASSWORD)
    expect(page.get_by_role("heading", name="マイページ")).to_be_visible()
    shot("01-my-work-before")

    page.get_by_role("navigation").get_by_role("link", name="企業等の検索").click()
    expect(page).to_have_url(re.compile(r"/companies/$"))
    assert_assets_loaded(page)
    search = page.get_by_label("法人番号・企業名・フリガナ")
    expect(search).to_be_focused()
    search.press_sequentially("ﾐﾗｲｾｲ", delay=30)
    results = page.locator("#company-results")
    expect(results.get_by_role("link", name="株式会社ミライ精工")).to_be_visible()
    expect(results.get_by_role("link", name="ミライ精工販売株式会社")).to_be_visible()
    expect(results).not_to_contain_text("ミライ食品")
    # htmx pushed the query into the address bar: reload or share keeps it.
    expect(page).to_have_url(re.compile(r"/companies/\?q="))
    shot("02-search-results")

    results.get_by_role("link", name="株式会社ミライ精工").click()
    expect(page.get_by_role("heading", name="株式会社ミライ精工")).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("東京都 大田区")
    shot("03-company")

    page.get_by_role("link", name="＋ この企業の相談を記録").click()
    expect(page).to_have_url(re.compile(rf"/consultations/new/\?company={mirai.pk}$"))
    assert_assets_loaded(page)
    expect(page.locator("#company-chosen")).to_be_visible()
    expect(page.locator("#company-chosen-label")).to_have_text(
        "株式会社ミライ精工（東京都）"
    )
    expect(page.locator("#company-finder")).to_be_hidden()
    expect(page.get_by_label("案件")).to_have_value("")  # a new case opens
    shot("04-form-empty")

    page.get_by_label("電話").check()
    page.get_by_label("所要時間（分）").fill("45")
    page.locator("#id_topics").get_by_label("特許", exact=True).check()
    page.get_by_label("相談内容").fill(SUMMARY)
    page.get_by_label("次のアクション").fill(NEXT_ACTION)
    page.get_by_role("button", name="1週間後").click()
    expect(page.get_by_label("フォローアップ日", exact=True)).to_have_value(
        week_later().isoformat()
    )
    shot("05-form-filled")

    page.get_by_label("次のアクション").press("Control+Enter")
    page.wait_for_url(CASE_URL)
    case_id = assert_saved_on_timeline(page, mirai, "電話")
    shot("06-case-timeline")

    consultation = Consultation.objects.get()
    assert consultation.company == mirai
    assert consultation.case_id == case_id
    assert consultation.channel == "phone"
    # The browser posts a textarea's line breaks as CRLF, and they are
    # stored as posted (reported to the lead: normalise to LF?).
    assert consultation.summary.replace("\r\n", "\n") == SUMMARY
    assert FollowUp.objects.get(case_id=case_id).due_on == week_later()

    page.get_by_role("navigation").get_by_role("link", name="マイページ").click()
    follow_ups = page.locator("#follow-ups")
    expect(follow_ups.get_by_role("heading", name="今後2週間")).to_be_visible()
    row = follow_ups.locator("li.row", has_text="株式会社ミライ精工")
    expect(row).to_contain_text(month_day(week_later()))
    expect(row).to_contain_text(NEXT_ACTION)
    recent = page.locator("#recent-consultations tbody tr")
    expect(recent).to_have_count(1)
    expect(recent).to_contain_text("株式会社ミライ精工")
    expect(recent).to_contain_text("電話")
    expect(recent).to_contain_text(NEXT_ACTION)
    shot("07-my-work-after")


def test_consultation_keyboard_only(
    page, shot, log_in, staff, mirai, other_companies, capsys
):
    log_in(staff.user.username, PASSWORD)
    page.goto("/consultations/new/")
    assert_assets_loaded(page)
    # From here on: keys only, as a staff member typing after a consultation.
    # The page counts the key presses (Playwright inserts the Japanese text
    # without key events, so its characters are not counted). Screenshots
    # are left out of the time.
    page.evaluate(
        """() => { window.keyCount = {all: 0, Tab: 0};
            document.addEventListener("keydown", ev => { window.keyCount.all++;
                if (ev.key === "Tab") { window.keyCount.Tab++; } }, true); }"""
    )
    started = time.perf_counter()
    paused = 0.0

    def shot_untimed(step: str) -> None:
        nonlocal paused
        before = time.perf_counter()
        shot(step)
        paused += time.perf_counter() - before

    expect(page.locator("#company-q")).to_be_focused()  # autofocus
    page.keyboard.type("ﾐﾗｲｾｲ")
    options = page.locator("#company-options li[role=option]")
    expect(options).to_have_count(2)
    expect(page.locator("#company-q")).to_have_attribute("aria-expanded", "true")
    # The first candidate is active at once; arrows move the choice.
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    shot_untimed("01-typeahead")
    if "ミライ精工販売" in options.nth(0).inner_text():
        page.keyboard.press("ArrowDown")
    expect(page.locator("#company-options [aria-selected=true]")).to_contain_text(
        "株式会社ミライ精工"
    )
    page.keyboard.press("Enter")

    expect(page.locator("#company-chosen-label")).to_have_text(
        "株式会社ミライ精工（東京都）"
    )
    # Picking moves the focus on to the channel, once the case field reloaded.
    page.wait_for_function("() => document.activeElement.name === 'channel'")
    expect(page.locator("#id_case")).to_have_value("")
    page.keyboard.press("ArrowRight")  # 来所 → 電話
    expect(page.get_by_label("電話")).to_be_checked()
    tab_until(page, "#id_duration_minutes", back=True)
    page.keyboard.press("Control+A")
    page.keyboard.type("45")
    tab_until(page, "input[name=channel]")
    assert focused_id(page) == page.get_by_label("電話").get_attribute("id")
    page.keyboard.press("Tab")
    assert focused_id(page) == "id_topics_0"  # 特許
    page.keyboard.press("Space")
    tab_until(page, "#id_summary")
    page.keyboard.type(SUMMARY)
    tab_until(page, "#id_next_action")
    page.keyboard.type(NEXT_ACTION)
    tab_until(page, ".quick-dates [data-days='7']")
    page.keyboard.press("Space")
    expect(page.locator("#id_follow_up_on")).to_have_value(week_later().isoformat())
    shot_untimed("02-filled")
    keys = page.evaluate("() => window.keyCount")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(CASE_URL)
    elapsed = time.perf_counter() - started - paused

    assert_saved_on_timeline(page, mirai, "電話")
    shot("03-saved")
    consultation = Consultation.objects.get()
    assert consultation.company == mirai
    assert consultation.duration_minutes == 45
    assert [t.topic for t in consultation.topics.all()] == ["patent"]
    with capsys.disabled():
        print(
            f"\nkeyboard-only consultation (scripted, page open → saved): "
            f"{elapsed:.2f} s, {keys['all'] + 1} keys pressed besides the Japanese text typed, "
            f"{keys['Tab']} of them Tab"
        )


def test_failed_submit_shows_japanese_error_and_keeps_what_was_typed(
    page, shot, log_in, staff, mirai
):
    log_in(staff.user.username, PASSWORD)
    page.goto(f"/consultations/new/?company={mirai.pk}")
    page.get_by_label("オンライン").check()
    page.get_by_label("所要時間（分）").fill("45")
    page.locator("#id_ip_types").get_by_label("特許", exact=True).check()
    page.get_by_label("相談内容").fill(SUMMARY)
    page.get_by_label("次のアクション").fill(NEXT_ACTION)
    page.get_by_role("button", name="1週間後").click()
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()  # no topic checked

    expect(page).to_have_url(re.compile(r"/consultations/new/"))
    topics = page.locator(".field.has-error", has=page.locator("#id_topics"))
    expect(topics.get_by_role("alert")).to_have_text(
        re.compile("相談分野を1つ以上選んでください。|この項目は必須です。")
    )
    shot("01-error")
    assert not Consultation.objects.exists()
    # Everything typed is still there, the company too.
    expect(page.locator("#company-chosen-label")).to_have_text(
        "株式会社ミライ精工（東京都）"
    )
    expect(page.get_by_label("オンライン")).to_be_checked()
    expect(page.get_by_label("所要時間（分）")).to_have_value("45")
    expect(
        page.locator("#id_ip_types").get_by_label("特許", exact=True)
    ).to_be_checked()
    expect(page.get_by_label("相談内容")).to_have_value(SUMMARY)
    expect(page.get_by_label("次のアクション")).to_have_value(NEXT_ACTION)
    expect(page.get_by_label("フォローアップ日", exact=True)).to_have_value(
        week_later().isoformat()
    )
    assert_assets_loaded(page)

    # The keyboard is put on the field to fix; fixing it saves.
    expect(page.locator("#id_topics").get_by_label("特許", exact=True)).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(CASE_URL)
    assert_saved_on_timeline(page, mirai, "オンライン")
    shot("02-saved")


def test_inline_new_company_with_existing_name_offers_the_existing_one(
    page, shot, log_in, staff, mirai
):
    log_in(staff.user.username, PASSWORD)
    page.goto("/consultations/new/")
    page.get_by_text("見つからないときは：新しい企業等を登録").click()
    new_company = page.locator("#new-company")
    # Same company, written another way: the legal form abbreviated.
    new_company.get_by_label("名称").fill("(株)ミライ精工")
    new_company.get_by_label("フリガナ").fill("ミライセイコウ")
    expect(new_company.get_by_label("都道府県")).to_have_value("13")  # 東京都
    page.locator("#id_topics").get_by_label("特許", exact=True).check()
    page.get_by_label("所要時間（分）").fill("45")
    page.get_by_label("相談内容").fill(SUMMARY)
    page.get_by_label("次のアクション").fill(NEXT_ACTION)
    page.get_by_role("button", name="1週間後").click()
    shot("01-new-company")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()

    candidates = page.locator(".candidates")
    expect(candidates.get_by_role("heading", name="この企業等ですか？")).to_be_visible()
    expect(candidates).to_contain_text("株式会社ミライ精工")
    expect(candidates).to_contain_text("ミライセイコウ ・ 東京都 大田区")
    expect(page.get_by_label("相談内容")).to_have_value(SUMMARY)
    shot("02-candidates")
    assert Company.objects.count() == 1

    # The keyboard is put on the candidate: Enter takes it.
    expect(candidates.get_by_role("button", name="この企業等を選ぶ")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#company-chosen-label")).to_have_text(
        "株式会社ミライ精工（東京都）"
    )
    expect(page.locator(".candidates")).to_have_count(0)
    expect(page.get_by_label("相談内容")).to_have_value(SUMMARY)
    expect(page.get_by_label("次のアクション")).to_have_value(NEXT_ACTION)
    expect(page.locator("#id_topics").get_by_label("特許", exact=True)).to_be_checked()
    expect(page.get_by_label("フォローアップ日", exact=True)).to_have_value(
        week_later().isoformat()
    )
    shot("03-picked")

    page.get_by_label("相談内容").press("Control+Enter")
    page.wait_for_url(CASE_URL)
    assert_saved_on_timeline(page, mirai, "来所")
    shot("04-saved")
    assert Company.objects.count() == 1
    assert Consultation.objects.get().company == mirai


def test_enter_right_after_typing_picks_from_the_finished_search(
    page, shot, log_in, staff, mirai, other_companies
):
    """A fast typist's Enter must not pick from the previous, shorter query's list."""
    log_in(staff.user.username, PASSWORD)
    page.goto("/consultations/new/")
    page.evaluate("() => { window.stillThisPage = true; }")
    page.keyboard.type("ﾐﾗｲ")
    options = page.locator("#company-options li[role=option]")
    expect(options).to_have_count(3)
    page.keyboard.type("ｼｮｸ")
    page.keyboard.press("Enter")  # before the search for ﾐﾗｲｼｮｸ has answered

    expect(page.locator("#company-chosen-label")).to_have_text(
        "株式会社ミライ食品（東京都）"
    )
    assert page.evaluate("() => window.stillThisPage === true")  # not submitted
    shot("01-picked")
