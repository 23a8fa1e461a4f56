"""statistics/events/: co-hosted events, the 90-day funnel, counts worked out by hand.

The network of the tests (fiscal year 2026):
- E1 seminar 2026-06-10, host A (東京都), co-host B (大阪府): c1, c2, c3
  registered; c1 and c2 attended. c1 consulted B on 2026-07-01 (day 21)
  and filed on 2026-08-01; c2 consulted on 2026-09-09 (day 91: too late).
- E2 training 2026-07-15, host A: c1 and c4 registered and attended. c1's
  consultation of 07-01 was before E2; c4 consulted A on 2026-07-16.
- E3 liaison meeting 2026-06-20, host B: c5 registered and attended.
- E0 seminar 2026-03-01 (fiscal year 2025), host A: outside the year.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from crm.models import EventAttendee, Outcome
from crm.services.events import event_create
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsultationFactory

JST = ZoneInfo("Asia/Tokyo")
URL = "/api/v1/statistics/events/"


def at(month, day, year=2026, hour=14):
    return dt.datetime(year, month, day, hour, tzinfo=JST)


def attend(event, company, *, attended=True):
    EventAttendee.objects.create(
        event=event,
        company=company,
        registered_by=event.organisation,
        is_attended=attended,
        attended_at=event.starts_at if attended else None,
    )


def consult(company, org_code, when):
    case = CaseFactory(
        company=company, organisation=Organisation.objects.get(code=org_code)
    )
    return ConsultationFactory(case=case, occurred_at=when)


@pytest.fixture
def funnel(network):
    staff_a = make_actor(ORG_A, "window_staff")
    staff_b = make_actor(ORG_B, "window_staff")
    c1, c2, c3, c4, c5 = CompanyFactory.create_batch(5)
    e1 = event_create(
        actor=staff_a,
        title="E1",
        kind="seminar",
        starts_at=at(6, 10),
        place="会場",
        cohosts=[ORG_B],
    )
    e2 = event_create(
        actor=staff_a, title="E2", kind="training", starts_at=at(7, 15), place="会場"
    )
    e3 = event_create(
        actor=staff_b,
        title="E3",
        kind="liaison_meeting",
        starts_at=at(6, 20),
        is_online=True,
    )
    e0 = event_create(
        actor=staff_a, title="E0", kind="seminar", starts_at=at(3, 1), place="会場"
    )
    attend(e1, c1)
    attend(e1, c2)
    attend(e1, c3, attended=False)
    attend(e2, c1)
    attend(e2, c4)
    attend(e3, c5)
    attend(e0, c3)
    first = consult(c1, ORG_B, at(7, 1, hour=10))
    Outcome.objects.create(
        case=first.case,
        company=c1,
        organisation=first.organisation,
        kind="filing",
        ip_type="patent",
        occurred_on=dt.date(2026, 8, 1),
        recorded_by=get_user_model().objects.get(pk=first.author_id),
    )
    consult(c2, ORG_A, at(9, 9, hour=10))
    consult(c4, ORG_A, at(7, 16, hour=10))
    consult(c3, ORG_A, at(3, 2, hour=10))


def stats(api, actor, code=None, group_by=""):
    response = api(actor, code).get(
        URL, {"fiscal_year": 2026, "group_by": group_by}
    )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_network_totals_count_a_co_hosted_event_once(api, funnel, superuser_actor):
    body = stats(api, superuser_actor)

    assert body["totals"] == {
        "events": 3,
        "registrations": 6,
        "attendees": 5,
        "companies": 4,
        "companies_consulted_after": 2,
        "companies_filed_after": 1,
    }


@pytest.mark.django_db
def test_by_organisation_the_co_hosted_event_counts_for_each_host(
    api, funnel, superuser_actor
):
    rows = {
        r["organisation"]: r
        for r in stats(api, superuser_actor, group_by="organisation")["rows"]
    }

    assert set(rows) == {ORG_A, ORG_B}
    a, b = rows[ORG_A], rows[ORG_B]
    assert (a["events"], a["registrations"], a["attendees"]) == (2, 5, 4)
    assert (a["companies"], a["companies_consulted_after"]) == (3, 2)
    assert a["companies_filed_after"] == 1
    assert (b["events"], b["registrations"], b["attendees"]) == (2, 4, 3)
    assert (b["companies"], b["companies_consulted_after"]) == (3, 1)
    assert b["organisation_label"] == Organisation.objects.get(code=ORG_B).name


@pytest.mark.django_db
def test_each_host_sees_its_events_once_in_its_own_view(api, funnel, network):
    manager_a = make_actor(ORG_A, "manager")
    manager_b = make_actor(ORG_B, "manager")

    a = stats(api, manager_a, ORG_A)
    b = stats(api, manager_b, ORG_B, group_by="kind")

    assert a["scope"]["level"] == "organisation"
    assert a["totals"]["events"] == 2
    assert a["totals"]["companies_consulted_after"] == 2
    assert b["totals"]["events"] == 2
    assert {r["kind"]: r["events"] for r in b["rows"]} == {
        "seminar": 1,
        "liaison_meeting": 1,
    }


@pytest.mark.django_db
def test_by_month_and_prefecture(api, funnel, superuser_actor):
    months = stats(api, superuser_actor, group_by="month")["rows"]
    prefectures = stats(api, superuser_actor, group_by="prefecture")["rows"]

    assert [(r["month"], r["events"], r["month_label"]) for r in months] == [
        ("2026-06", 2, "2026年6月"),
        ("2026-07", 1, "2026年7月"),
    ]
    assert [(r["prefecture"], r["events"]) for r in prefectures] == [
        ("13", 2),
        ("27", 2),
    ]


@pytest.mark.django_db
def test_unknown_group_by_is_400_and_experts_get_403(api, funnel, network):
    expert = make_actor(ORG_A, "expert")
    manager = make_actor(ORG_A, "manager")

    bad = api(manager, ORG_A).get(URL, {"group_by": "topic"})
    refused = api(expert, ORG_A).get(URL)

    assert bad.status_code == 400
    assert "group_by" in bad.json()
    assert refused.status_code == 403
