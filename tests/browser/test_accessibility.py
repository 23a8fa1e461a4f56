"""Every page a logged-in user reaches, checked by axe-core at three widths.

axe-core is vendored (tests/browser/vendor/axe-core/, MPL-2.0, see its
LICENSE): nothing is fetched at run time. It is evaluated in the page
through the DevTools protocol, so the site's Content-Security-Policy (no
inline scripts) need not be loosened for the test.

For each page at 1366 px, 1920 px and 390 px: zero axe violations, zero
"incomplete" (needs review) results of impact serious or critical, and on
the phone width no horizontal scrolling of the page itself
(document.scrollingElement.scrollWidth <= 390; wide tables scroll inside
their own container).

One browser, one login, one tab reused for every page: the test must stay
fast.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from crm.models import Notification, Survey
from crm.services.events import attendee_register, event_create
from crm.services.surveys import token_hash
from support_network.calendar import fiscal_year
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import make_actor
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsultationFactory,
    ReferralFactory,
)
from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory, program

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_SOURCE = AXE.read_text(encoding="utf-8")
PASSWORD = "pass-1234-word"
WIDTHS = (1366, 1920, 390)
PHONE = 390
SERIOUS = ("serious", "critical")

RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ["violations", "incomplete"]});
  const brief = (x) => ({id: x.id, impact: x.impact, help: x.help,
    nodes: x.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " +
      (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 240))});
  return {violations: r.violations.map(brief),
          incomplete: r.incomplete.filter(x => ["serious", "critical"].includes(x.impact)).map(brief)};
}"""


# The innermost elements sticking out past the viewport's right edge.
WIDEST = """(limit) => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > limit + 1)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > limit + 1))
  .slice(0, 4)
  .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
       (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") +
       " right=" + Math.round(e.getBoundingClientRect().right))"""


@pytest.fixture
def admin_user(network):
    """An org admin of INPIT 東京都窓口: sees the board, statistics and members."""
    return make_actor("inpit-window-13", "org_admin", username="a11y-admin")


@pytest.fixture
def pages(network, admin_user) -> list[str]:
    """Make the records the pages show; return the paths to visit."""
    org = network["inpit-window-13"]
    user = admin_user.user
    company = CompanyFactory(
        name="株式会社アクセシブル工業",
        name_kana="アクセシブルコウギョウ",
        registered_by=org,
        employees=12,
    )
    case = CaseFactory(
        company=company,
        organisation=org,
        created_by=user,
        assignee=user,
        title="海外展開前の商標出願",
    )
    ConsultationFactory(case=case, author=user)
    ReferralFactory(case=case, sent_by=user, to_organisation=network["yorozu-27"])
    other = CaseFactory(
        company=CompanyFactory(
            name="株式会社ヨロズ紹介元", registered_by=network["yorozu-27"]
        ),
        organisation=network["yorozu-27"],
    )
    incoming = ReferralFactory(
        case=other,
        to_organisation=org,
        status="accepted",
        answered_at=timezone.now(),
    )
    Notification.objects.create(
        recipient=user,
        kind="referral_received",
        message="紹介が届きました",
        object_type="referral",
        object_id=str(incoming.pk),
    )
    today = timezone.localdate()
    round_ = ProgramRoundFactory(
        program=program("ipas"), fiscal_year=fiscal_year(today)
    )
    enrolment = EnrolmentFactory(
        round=round_,
        company=company,
        case=case,
        applied_by=user,
    )
    event = event_create(
        actor=admin_user,
        title="知財入門セミナー",
        kind="seminar",
        starts_at=timezone.now() + dt.timedelta(days=7),
        place="産業会館",
        capacity=30,
        topics=["patent"],
        cohosts=["yorozu-27"],
    )
    attendee_register(
        actor=admin_user, event=event, company=company, contact_name="山田 花子"
    )
    sent = timezone.now()
    Survey.objects.create(
        organisation=org,
        company=company,
        source="consultation",
        status="sent",
        due_on=today,
        fiscal_year=fiscal_year(today),
        sent_at=sent,
        expires_at=sent + dt.timedelta(days=30),
        token_hash=token_hash("a11y-survey-token"),
    )
    Survey.objects.create(
        organisation=org,
        company=company,
        source="consultation",
        status="answered",
        due_on=today,
        fiscal_year=fiscal_year(today),
        sent_at=sent,
        expires_at=sent + dt.timedelta(days=30),
        answered_at=sent,
        score=4,
        useful=5,
        comment="丁寧でした",
        filed_after=True,
        application_number="特願2026-012345",
    )
    # An import with its dry-run report (errors, companies, mapping form).
    from crm.services.imports import import_upload, import_validate
    from tests.crm.import_files import history_rows, xlsx_bytes

    imp = import_upload(
        actor=admin_user,
        file_name="相談記録.xlsx",
        content=xlsx_bytes(history_rows("a11y-admin")),
        queue=False,
    )
    import_validate(import_id=imp.pk)
    return [
        "/",
        "/surveys/a11y-survey-token/",
        "/surveys/a11y-survey-token/opt-out/",
        "/events/",
        "/events/new/",
        f"/events/{event.pk}/",
        f"/events/{event.pk}/edit/",
        "/imports/",
        f"/imports/{imp.pk}/",
        "/companies/",
        "/companies/?q=アクセシブル",
        f"/companies/{company.pk}/",
        "/companies/new/",
        f"/companies/{company.pk}/edit/",
        f"/companies/{company.pk}/contacts/new/",
        f"/companies/{company.pk}/consents/new/",
        "/consultations/new/",
        f"/consultations/new/?company={company.pk}",
        "/cases/",
        f"/cases/{case.pk}/",
        "/referrals/",
        "/referrals/?box=out",
        f"/cases/{case.pk}/refer/",
        "/board/",
        "/notifications/",
        "/statistics/",
        "/statistics/surveys/",
        "/programs/",
        "/programs/ipas/",
        f"/cases/{case.pk}/enrol/",
        f"/cases/{case.pk}/refer-to-program/",
        f"/enrolments/{enrolment.pk}/",
        "/members/",
        "/members/invite/",
        "/personal-data/",
        "/account/mfa/",
        "/password/change/",
    ]


def check(page: Page, path: str, width: int) -> list[str]:
    """Return what is wrong with the current page (empty when nothing)."""
    problems = []
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    result = page.evaluate(RUN_AXE)
    for kind in ("violations", "incomplete"):
        for item in result[kind]:
            problems.append(
                f"{width}px {path} {kind[:-1] if kind == 'violations' else 'needs review'}"
                f" {item['id']} ({item['impact']}): {item['help']}\n      "
                + "\n      ".join(item["nodes"])
            )
    if width == PHONE:
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > PHONE:
            culprits = page.evaluate(WIDEST, PHONE)
            problems.append(
                f"{width}px {path} is {scroll_width}px wide: " + "; ".join(culprits)
            )
    return problems


def test_every_page_passes_axe_at_three_widths(page: Page, log_in, admin_user, pages):
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.context.clear_cookies()
        page.goto("/login/")
        problems += check(page, "/login/", width)
        log_in(admin_user.user.username, PASSWORD)
        for path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, (path, response)
            page.wait_for_load_state("load")
            found = check(page, path, width)
            # Phone-width screenshots of every page (and of any page with a
            # problem) go to var/screenshots/ for a person to look at.
            if found or width == PHONE:
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                name = re.sub(r"[^\w]+", "_", path).strip("_") or "home"
                page.screenshot(
                    path=str(SCREENSHOTS / f"a11y-{width}-{name}.png"), full_page=True
                )
            problems += found
    assert not problems, f"{len(problems)} problems:\n  " + "\n  ".join(problems)


def test_phone_width_pages_keep_names_readable(page: Page, log_in, admin_user, pages):
    """The recent-consultations table on my page keeps company names on a line."""
    page.set_viewport_size({"width": PHONE, "height": 900})
    log_in(admin_user.user.username, PASSWORD)
    page.goto("/")
    narrowest = page.evaluate(
        """() => Math.min(...[...document.querySelectorAll("table td, table th")]
              .filter(c => c.offsetParent !== null && c.innerText.trim().length > 3)
              .map(c => c.getBoundingClientRect().width))"""
    )
    # 15 px type: four characters need at least 60 px.
    assert narrowest >= 60, f"a table cell on / is only {narrowest}px wide"
    # The company name (12 characters) takes at most two lines.
    name = page.locator("#recent-consultations a", has_text="株式会社アクセシブル工業")
    lines = name.evaluate("a => a.getClientRects().length")
    assert lines <= 2, f"the company name is broken over {lines} lines"
    menu = page.locator("header.bar").bounding_box()
    assert menu is not None and menu["height"] <= 120, menu


def test_consultation_form_errors_groups_and_access_keys(
    page: Page, log_in, admin_user, pages
):
    """Errors are tied to their fields; each checkbox group is one Tab stop."""
    log_in(admin_user.user.username, PASSWORD)
    page.goto("/consultations/new/")
    # Access keys are shown in the menu.
    assert page.locator("nav.main-nav a[accesskey=n] kbd").inner_text() == "N"
    page.locator("#save").click()
    page.wait_for_load_state("load")
    # Every aria-describedby names an element of the page.
    dangling = page.evaluate(
        """() => [...document.querySelectorAll("[aria-describedby]")].flatMap(e =>
              e.getAttribute("aria-describedby").split(/\\s+/)
               .filter(id => !document.getElementById(id)).map(id => e.id + " → " + id))"""
    )
    assert dangling == []
    summary = page.locator("#id_summary")
    assert summary.get_attribute("aria-invalid") == "true"
    assert "id_summary_error" in summary.get_attribute("aria-describedby")
    assert page.locator("#id_summary_error").is_visible()
    # No group label points nowhere.
    assert page.locator("label[for='']").count() == 0
    assert check(page, "/consultations/new/ (errors)", 1366) == []
    # The keyboard lands on the first field in error.
    first_error = page.evaluate(
        """() => document.querySelector(".has-error input, .has-error select, .has-error textarea").id"""
    )
    assert page.evaluate("document.activeElement.id") == first_error

    # Topics: one Tab stop, arrows move inside, Space ticks, Tab leaves.
    page.locator("#id_topics_0").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "id_topics_1"
    page.keyboard.press("Space")
    assert page.locator("#id_topics_1").is_checked()
    page.keyboard.press("End")
    last = page.evaluate("document.activeElement.id")
    assert last == f"id_topics_{page.locator('input[name=topics]').count() - 1}"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "ip_types"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_summary"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    # Back into the topics: on the box last used, not on each box in turn.
    assert page.evaluate("document.activeElement.id") == last


def test_consultation_form_says_which_case_it_goes_to(
    page: Page, log_in, admin_user, pages
):
    log_in(admin_user.user.username, PASSWORD)
    page.goto("/consultations/new/")
    page.locator("#company-q").fill("アクセシブル")
    page.locator("#company-options [role=option]").first.wait_for()
    page.keyboard.press("Enter")
    target = page.locator("#case-target")
    target.wait_for()
    assert "海外展開前の商標出願" in target.inner_text(), target.inner_text()
    page.locator("#id_case").select_option("")
    assert target.inner_text() == "この相談で新しい案件を開きます。"
