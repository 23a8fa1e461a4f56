"""A company's contact answers a satisfaction survey on a phone (390 px), no login."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import Page, expect

from crm.models import Survey
from crm.services.surveys import token_hash
from support_network.models import Organisation
from tests.crm.factories import CompanyFactory

PHONE = {"width": 390, "height": 844}


def test_contact_answers_the_survey_on_a_phone(page: Page, network, shot):
    now = timezone.now()
    Survey.objects.create(
        organisation=Organisation.objects.get(code="inpit-window-13"),
        company=CompanyFactory(),
        source="consultation",
        status="sent",
        due_on=timezone.localdate(),
        fiscal_year=2026,
        sent_at=now,
        expires_at=now + dt.timedelta(days=30),
        token_hash=token_hash("phone-survey-token"),
    )
    page.set_viewport_size(PHONE)

    page.goto("/surveys/phone-survey-token/")
    # The public page loads the stylesheet only (no scripts are needed).
    assert page.evaluate("document.styleSheets.length") == 1
    expect(page.get_by_role("heading", name="ご支援についてのアンケート")).to_be_visible()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    shot("survey-form")
    page.get_by_role("group", name="受けた支援に満足しましたか").get_by_label("4").check()
    page.get_by_role("group", name="助言は役に立ちましたか").get_by_label("5").check()
    page.get_by_label("支援を受けた後に特許・商標などを出願した").check()
    page.get_by_label("出願番号（分かれば）").fill("特願2026-012345")
    page.get_by_label("ご意見・ご感想（任意）").fill("分かりやすい説明でした。")
    page.get_by_role("button", name="回答する").click()

    expect(page.get_by_role("heading", name="ご回答ありがとうございました")).to_be_visible()
    shot("survey-thanks")
    survey = Survey.objects.get()
    assert (survey.status, survey.score, survey.useful) == ("answered", 4, 5)
    assert survey.application_number == "特願2026-012345"
