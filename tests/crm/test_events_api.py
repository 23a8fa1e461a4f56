"""Network events over the API: public facts, registrations, capacity, attendance."""

from __future__ import annotations

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from crm.models import Company, Event, EventAttendee
from crm.services import events as event_services
from support_network.errors import Conflict
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory

EVENTS = "/api/v1/events/"
JUNE_10 = dt.datetime(2026, 6, 10, 14, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def event_body(**extra):
    body = {
        "title": "知財入門セミナー",
        "kind": "seminar",
        "starts_at": "2026-06-10T14:00:00+09:00",
        "ends_at": "2026-06-10T16:00:00+09:00",
        "place": "東京都立産業貿易センター",
        "capacity": 30,
        "topics": ["patent", "trademark"],
    }
    body.update(extra)
    return body


def create_event(api, actor, code=ORG_A, **extra):
    response = api(actor, code).post(EVENTS, event_body(**extra), format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_host_creates_a_co_hosted_event(api, staff_a, staff_b):
    body = create_event(api, staff_a, cohosts=[ORG_B])

    assert body["organisation"] == ORG_A
    assert body["cohosts"] == [ORG_B]
    assert body["topics"] == ["patent", "trademark"]
    assert body["attendees_count"] == 0
    event = Event.objects.get(pk=body["id"])
    assert event.fiscal_year == 2026
    assert str(event.starts_on) == "2026-06-10"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"title": " "}, "title"),
        ({"kind": "party"}, "kind"),
        ({"ends_at": "2026-06-10T13:00:00+09:00"}, "ends_at"),
        ({"capacity": 0}, "capacity"),
        ({"place": "", "is_online": False}, "place"),
        ({"cohosts": ["no-such-org"]}, "cohosts"),
        ({"cohosts": [ORG_A]}, "cohosts"),
        ({"topics": ["cooking"]}, "topics"),
    ],
)
def test_bad_event_input_is_a_400_naming_the_field(api, staff_a, extra, field):
    response = api(staff_a, ORG_A).post(EVENTS, event_body(**extra), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_every_member_sees_public_facts_but_not_the_registrations(
    api, staff_a, staff_b, network
):
    event = create_event(api, staff_a)
    company = CompanyFactory()
    api(staff_a, ORG_A).post(
        f"{EVENTS}{event['id']}/attendees/",
        {"company": company.pk, "contact_name": "山田 花子"},
        format="json",
    )
    other = make_actor("yorozu-13", "window_staff")

    listed = api(other, "yorozu-13").get(EVENTS).json()["results"]
    detail = api(other, "yorozu-13").get(f"{EVENTS}{event['id']}/").json()
    attendees = api(other, "yorozu-13").get(f"{EVENTS}{event['id']}/attendees/")

    assert [e["title"] for e in listed] == ["知財入門セミナー"]
    assert detail["place"] == "東京都立産業貿易センター"
    assert detail["is_host"] is False
    assert detail["attendees_count"] == 1
    assert attendees.status_code == 200
    assert attendees.json() == []
    host_rows = api(staff_a, ORG_A).get(f"{EVENTS}{event['id']}/attendees/").json()
    assert [r["contact_name"] for r in host_rows] == ["山田 花子"]


@pytest.mark.django_db
def test_co_host_sees_registrations_and_ticks_attendance(api, staff_a, staff_b):
    event = create_event(api, staff_a, cohosts=[ORG_B])
    company = CompanyFactory()
    attendee = api(staff_a, ORG_A).post(
        f"{EVENTS}{event['id']}/attendees/", {"company": company.pk}, format="json"
    )
    assert attendee.status_code == 201
    assert attendee.json()["attended"] is False
    aid = attendee.json()["id"]

    rows = api(staff_b, ORG_B).get(f"{EVENTS}{event['id']}/attendees/").json()
    ticked = api(staff_b, ORG_B).post(f"{EVENTS}{event['id']}/attendees/{aid}/attend/")

    assert [r["company"] for r in rows] == [company.pk]
    assert ticked.status_code == 200
    assert ticked.json()["attended"] is True
    assert EventAttendee.objects.get(pk=aid).attended_at is not None


@pytest.mark.django_db
def test_non_host_cannot_tick_attendance(api, staff_a, network):
    event = create_event(api, staff_a)
    company = CompanyFactory()
    other = make_actor("yorozu-13", "window_staff")
    # Another window may send a company to the seminar …
    aid = (
        api(other, "yorozu-13")
        .post(f"{EVENTS}{event['id']}/attendees/", {"company": company.pk})
        .json()["id"]
    )

    # … but the registration does not exist for it afterwards.
    response = api(other, "yorozu-13").post(
        f"{EVENTS}{event['id']}/attendees/{aid}/attend/"
    )

    assert response.status_code == 404
    assert EventAttendee.objects.get(pk=aid).is_attended is False
    assert EventAttendee.objects.get(pk=aid).registered_by.code == "yorozu-13"


@pytest.mark.django_db
def test_only_the_host_edits_the_event(api, staff_a, staff_b):
    event = create_event(api, staff_a, cohosts=[ORG_B])

    refused = api(staff_b, ORG_B).patch(
        f"{EVENTS}{event['id']}/", {"title": "改名"}, format="json"
    )
    changed = api(staff_a, ORG_A).patch(
        f"{EVENTS}{event['id']}/", {"title": "改名", "cohosts": []}, format="json"
    )

    assert refused.status_code == 403
    assert changed.status_code == 200
    assert changed.json()["title"] == "改名"
    assert changed.json()["cohosts"] == []


@pytest.mark.django_db
def test_registration_past_capacity_is_409_event_full(api, staff_a):
    event = create_event(api, staff_a, capacity=1)
    first, second = CompanyFactory(), CompanyFactory()
    url = f"{EVENTS}{event['id']}/attendees/"

    assert api(staff_a, ORG_A).post(url, {"company": first.pk}).status_code == 201
    full = api(staff_a, ORG_A).post(url, {"company": second.pk})

    assert full.status_code == 409
    assert full.json()["code"] == "event_full"
    assert EventAttendee.objects.filter(event_id=event["id"]).count() == 1


@pytest.mark.django_db
def test_a_company_registers_once_and_unknown_company_is_400(api, staff_a):
    event = create_event(api, staff_a)
    company = CompanyFactory()
    url = f"{EVENTS}{event['id']}/attendees/"

    api(staff_a, ORG_A).post(url, {"company": company.pk})
    again = api(staff_a, ORG_A).post(url, {"company": company.pk})
    unknown = api(staff_a, ORG_A).post(url, {"company": 999999})
    bad_mail = api(staff_a, ORG_A).post(
        url, {"company": CompanyFactory().pk, "contact_email": "no-at-sign"}
    )

    assert again.status_code == 409
    assert again.json()["code"] == "already_registered"
    assert unknown.status_code == 400
    assert "company" in unknown.json()
    assert bad_mail.status_code == 400
    assert "contact_email" in bad_mail.json()


@pytest.mark.django_db
def test_inline_registration_of_a_new_company_keeps_the_duplicate_check(staff_a):
    event = event_services.event_create(
        actor=staff_a,
        title="商標セミナー",
        kind="seminar",
        starts_at=JUNE_10,
        is_online=True,
    )
    fields = {
        "corporate_number": "1180301018771",
        "name": "株式会社新規",
        "kind": "corporation",
        "prefecture": "13",
    }
    Company.objects.filter(corporate_number="1180301018771").delete()

    attendee = event_services.attendee_register_with_new_company(
        actor=staff_a, event=event, company_fields=fields
    )
    with pytest.raises(Conflict) as refused:
        event_services.attendee_register_with_new_company(
            actor=staff_a, event=event, company_fields=fields
        )

    assert attendee.company.name == "株式会社新規"
    assert refused.value.code == "duplicate_company"
    assert Company.objects.filter(corporate_number="1180301018771").count() == 1


@pytest.mark.django_db
def test_events_list_filters_by_fiscal_year_kind_and_host(api, staff_a, staff_b):
    create_event(api, staff_a, title="2026年度セミナー")
    create_event(
        api,
        staff_a,
        title="2025年度研修",
        kind="training",
        starts_at="2026-03-10T10:00:00+09:00",
        ends_at=None,
    )
    create_event(api, staff_b, ORG_B, title="大阪の連携会議", kind="liaison_meeting")

    def titles(query):
        rows = api(staff_a, ORG_A).get(EVENTS + query).json()["results"]
        return sorted(r["title"] for r in rows)

    assert titles("?fiscal_year=2025") == ["2025年度研修"]
    assert titles("?kind=liaison_meeting") == ["大阪の連携会議"]
    assert titles(f"?organisation={ORG_A}") == ["2025年度研修", "2026年度セミナー"]


@pytest.mark.django_db(transaction=True)
def test_two_windows_taking_the_last_seat_at_once_fill_it_once(network, monkeypatch):
    staff_a = make_actor(ORG_A, "window_staff")
    staff_b = make_actor(ORG_B, "window_staff")
    event = event_services.event_create(
        actor=staff_a,
        title="定員1名の相談会",
        kind="consultation_fair",
        starts_at=JUNE_10,
        place="会議室",
        capacity=1,
    )
    companies = [CompanyFactory(), CompanyFactory()]
    # Widen the window between counting the seats and saving: without the
    # event lock both threads would count 0 and both register.
    count_seats = event_services.event_seats_taken

    def slow_count(event):
        taken = count_seats(event)
        time.sleep(0.3)
        return taken

    monkeypatch.setattr(event_services, "event_seats_taken", slow_count)
    start = threading.Barrier(2)
    outcomes = []

    def register(actor, company):
        try:
            start.wait(timeout=10)
            event_services.attendee_register(actor=actor, event=event, company=company)
            outcomes.append("registered")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=register, args=(actor, company))
        for actor, company in zip((staff_a, staff_b), companies, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["event_full", "registered"]
    assert EventAttendee.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_merging_two_registered_duplicates_keeps_one_attended_registration(
    api, staff_a, network
):
    from crm.services.merge import company_merge

    org_admin = make_actor(ORG_A, "org_admin")
    event = event_services.event_create(
        actor=staff_a,
        title="統合テスト",
        kind="seminar",
        starts_at=JUNE_10,
        place="会場",
    )
    other = event_services.event_create(
        actor=staff_a, title="別の回", kind="seminar", starts_at=JUNE_10, place="会場"
    )
    source = CompanyFactory(registered_by=staff_a.organisation)
    target = CompanyFactory(registered_by=staff_a.organisation)
    for company in (source, target):
        event_services.attendee_register(actor=staff_a, event=event, company=company)
    event_services.attendee_register(actor=staff_a, event=other, company=source)
    event_services.attendee_attend(
        actor=staff_a, attendee=EventAttendee.objects.get(event=event, company=source)
    )

    company_merge(actor=org_admin, source=source, target=target)

    kept = EventAttendee.objects.get(event=event)
    assert kept.company == target
    assert kept.is_attended is True
    assert EventAttendee.objects.get(event=other).company == target
