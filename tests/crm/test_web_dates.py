"""One date and one datetime spelling in the UI, Japanese weekdays in every language.

docs/dates.md: 2026/12/9, 2026/12/9 14:05, 2026/12/9（水）.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from crm.templatetags.crm_format import ymd, ymd_hm, ymd_weekday
from tests.crm.factories import CaseFactory, ConsultationFactory

pytestmark = pytest.mark.django_db

ENGLISH_WEEKDAYS = re.compile(r"（(Mon|Tue|Wed|Thu|Fri|Sat|Sun)）")


def test_filters_spell_one_date_and_one_datetime():
    day = dt.date(2026, 12, 9)
    assert ymd(day) == "2026/12/9"
    assert ymd_weekday(day) == "2026/12/9（水）"
    moment = dt.datetime(2026, 12, 9, 5, 5, tzinfo=dt.UTC)
    assert ymd_hm(moment) == "2026/12/9 14:05"  # Tokyo time
    assert ymd(moment) == "2026/12/9"
    assert ymd(None) == ymd_hm(None) == ymd_weekday(None) == ""


@pytest.mark.parametrize("language", ["ja", "en"])
def test_django_formats_match_the_filters_in_every_language(language):
    with translation.override(language):
        day = dt.date(2026, 12, 9)
        assert formats.date_format(day) == "2026/12/9"
        moment = dt.datetime(2026, 12, 9, 14, 5, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert formats.date_format(moment, "DATETIME_FORMAT") == "2026/12/9 14:05"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_my_page_keeps_japanese_weekdays_with_an_english_browser(staff_a, language):
    case = CaseFactory(organisation=staff_a.membership.organisation)
    ConsultationFactory(case=case, author=staff_a.user)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(staff_a.user)

    html = client.get("/").content.decode()

    today = timezone.localdate()
    assert ymd_weekday(today) in html
    assert not ENGLISH_WEEKDAYS.search(html)
    # The recent-consultations table: 2026/12/9, never 2026年12月9日 or 12/09.
    assert re.search(rf">{today.year}/{today.month}/{today.day}<", html)
