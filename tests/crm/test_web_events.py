"""The events pages: network-wide list, event form, registration, attendance sheet, xlsx."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Company, Event, EventAttendee
from crm.services.events import attendee_register, event_create
from support_network.calendar import fiscal_year
from tests.conftest import ORG_B, make_actor
from tests.crm.factories import CompanyFactory

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def seminar(actor, **extra):
    fields = {
        "title": "知財入門セミナー",
        "kind": "seminar",
        "starts_at": timezone.now() + dt.timedelta(days=7),
        "place": "産業会館 3階",
    }
    fields.update(extra)
    return event_create(actor=actor, **fields)


def test_list_shows_every_organisations_events_of_the_year(staff_a, staff_b):
    seminar(staff_b, title="大阪の商標セミナー")
    seminar(staff_a, title="東京の特許研修", kind="training")

    page = client_for(staff_a).get(reverse("crm:event-list"))
    training = client_for(staff_a).get(
        reverse("crm:event-list"),
        {"fiscal_year": fiscal_year(timezone.localdate()), "kind": "training"},
    )

    assert page.status_code == 200
    assert "大阪の商標セミナー" in page.content.decode()
    assert "東京の特許研修" in page.content.decode()
    assert "大阪の商標セミナー" not in training.content.decode()


def test_host_creates_an_event_with_the_form(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:event-create"),
        {
            "title": "連携会議 第2回",
            "kind": "liaison_meeting",
            "starts_on": "2026-06-10",
            "starts_time": "14:00",
            "ends_time": "16:00",
            "place": "関東経済産業局 会議室",
            "capacity": "20",
            "topics": ["patent"],
            "cohosts": [ORG_B],
        },
    )

    event = Event.objects.get()
    assert response.status_code == 302
    assert event.starts_at == dt.datetime(2026, 6, 10, 14, 0, tzinfo=JST)
    assert [o.code for o in event.cohosts.all()] == [ORG_B]


def test_bad_form_input_stays_on_the_page_with_a_japanese_message(staff_a):
    response = client_for(staff_a).post(
        reverse("crm:event-create"),
        {
            "title": "終了が先",
            "kind": "seminar",
            "starts_on": "2026-06-10",
            "starts_time": "14:00",
            "ends_time": "13:00",
            "place": "会場",
        },
    )

    assert response.status_code == 200
    assert "終了日時は開始日時より後にしてください。" in response.content.decode()
    assert not Event.objects.exists()


def test_another_window_registers_a_company_but_sees_no_registrations(staff_a, network):
    event = seminar(staff_a)
    other = make_actor("yorozu-13", "window_staff")
    company = CompanyFactory(name="株式会社ひかり製作所")

    response = client_for(other).post(
        reverse("crm:event-detail", args=[event.pk]),
        {"company": company.pk, "contact_name": "佐藤 一郎"},
    )
    page = client_for(other).get(reverse("crm:event-detail", args=[event.pk]))

    assert response.status_code == 302
    assert EventAttendee.objects.get().company == company
    assert "株式会社ひかり製作所" not in page.content.decode()
    assert 'id="attendees"' not in page.content.decode()
    host_page = client_for(staff_a).get(reverse("crm:event-detail", args=[event.pk]))
    assert "株式会社ひかり製作所" in host_page.content.decode()
    assert "が登録" in host_page.content.decode()


def test_inline_new_company_registration_with_the_duplicate_check(staff_a):
    event = seminar(staff_a)
    CompanyFactory(corporate_number="1180301018771", name="既存株式会社")
    url = reverse("crm:event-detail", args=[event.pk])
    new = {
        "new-name": "新規株式会社",
        "new-kind": "corporation",
        "new-prefecture": "13",
    }

    created = client_for(staff_a).post(url, new)
    duplicate = client_for(staff_a).post(
        url, {**new, "new-name": "別名", "new-corporate_number": "1180301018771"}
    )

    assert created.status_code == 302
    assert EventAttendee.objects.get().company.name == "新規株式会社"
    assert duplicate.status_code == 200
    assert "この法人番号の企業等は既に登録されています。" in duplicate.content.decode()
    assert not Company.objects.filter(name="別名").exists()


def test_attendance_sheet_ticks_and_unticks(staff_a, staff_b):
    event = seminar(staff_a, cohosts=[ORG_B])
    attendee = attendee_register(actor=staff_a, event=event, company=CompanyFactory())
    url = reverse("crm:event-attend", args=[event.pk, attendee.pk])

    ticked = client_for(staff_b).post(url, {"attended": "1"})
    assert EventAttendee.objects.get().is_attended is True
    page = client_for(staff_a).get(reverse("crm:event-detail", args=[event.pk]))
    client_for(staff_a).post(url, {"attended": "0"})

    assert ticked.status_code == 302
    assert 'aria-pressed="true"' in page.content.decode()
    assert "出席 1 / 登録 1" in page.content.decode()
    assert EventAttendee.objects.get().is_attended is False


def test_a_non_host_cannot_tick_or_download(staff_a, network):
    event = seminar(staff_a)
    attendee = attendee_register(actor=staff_a, event=event, company=CompanyFactory())
    other = client_for(make_actor("yorozu-13", "window_staff"))

    tick = other.post(reverse("crm:event-attend", args=[event.pk, attendee.pk]))
    sheet = other.get(reverse("crm:event-registrants", args=[event.pk]))

    assert tick.status_code == 404
    assert sheet.status_code == 404
    assert EventAttendee.objects.get().is_attended is False


def test_registrants_download_as_xlsx(staff_a):
    event = seminar(staff_a)
    attendee_register(
        actor=staff_a,
        event=event,
        company=CompanyFactory(name="株式会社あおば"),
        contact_name="田中 花子",
        contact_email="hanako@example.jp",
    )

    response = client_for(staff_a).get(
        reverse("crm:event-registrants", args=[event.pk])
    )

    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("企業等", "フリガナ")
    assert rows[1][0] == "株式会社あおば"
    assert rows[1][4:6] == ("田中 花子", "hanako@example.jp")


def test_managers_page_has_an_events_section_with_the_funnel(staff_a, manager_a):
    event = seminar(staff_a, starts_at=timezone.now() - dt.timedelta(days=3))
    company = CompanyFactory()
    attendee = attendee_register(actor=staff_a, event=event, company=company)
    EventAttendee.objects.filter(pk=attendee.pk).update(
        is_attended=True, attended_at=event.starts_at
    )

    page = client_for(manager_a).get(reverse("crm:statistics"))

    body = page.content.decode()
    assert page.status_code == 200
    assert 'id="section-events"' in body
    table = body[body.index('id="table-events"') :]
    table = table[: table.index("</table>")]
    assert '<th scope="row">セミナー</th><td class="num">1</td>' in table
