"""No N+1: the queries of each API list stay the same for 3 rows or 30.

Organisation A's window staff member records 30 consultations (each with
topics, IP types, a joint attendee and a follow-up), 30 outcomes and 30
referrals (with provision records and notifications), and there are 30
enrolments, 30 exports and 30 notifications. Each list is then read with
page_size=3 and page_size=30: the number of SQL queries must not change.
Nested lists without pages (a company's consents and contacts) grow from
3 rows to 30 instead. A list endpoint added later fails the coverage test
until it is measured here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import EndpointEnumerator

from crm.models import Export, Notification, Survey
from crm.services.cases import outcome_record
from crm.services.consultations import consultation_create
from crm.services.events import attendee_register, event_create
from crm.services.referrals import referral_send
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory, ContactFactory
from tests.programs.factories import EnrolmentFactory

ROWS = 30

# Every paginated list of the API, with the role of A that reads it.
LISTS = {
    "/api/v1/cases/": "window_staff",
    "/api/v1/consultations/": "window_staff",
    "/api/v1/follow-ups/": "window_staff",
    "/api/v1/outcomes/": "window_staff",
    "/api/v1/referrals/": "window_staff",
    "/api/v1/notifications/": "window_staff",
    "/api/v1/enrolments/": "window_staff",
    "/api/v1/exports/": "window_staff",
    "/api/v1/companies/": "window_staff",
    "/api/v1/organisations/": "window_staff",
    "/api/v1/prefectures/": "window_staff",
    "/api/v1/programs/": "window_staff",
    "/api/v1/provision-records/": "org_admin",
    "/api/v1/audit-events/": "org_admin",
    "/api/v1/members/": "org_admin",
    "/api/v1/events/": "window_staff",
    "/api/v1/surveys/": "org_admin",
}
# Lists of one company's rows, not paginated: measured with 3 and 30 rows.
NESTED = ["/api/v1/companies/{pk}/consents/", "/api/v1/companies/{pk}/contacts/"]


def list_endpoints() -> set[str]:
    """Return the paths of every GET endpoint answering with a list."""
    found = set()
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        actions = getattr(callback, "actions", None) or {}
        if method == "GET" and actions.get("get") == "list":
            found.add(path)
    return found


def test_every_list_endpoint_is_measured():
    assert list_endpoints() - set(LISTS) == set()


@pytest.fixture
def world(network):
    """30 of everything, visible to A's window staff member (and org admin)."""
    staff = make_actor(ORG_A, "window_staff", username="busy-staff")
    admin = make_actor(ORG_A, "org_admin", username="busy-admin")
    make_actor(ORG_B, "window_staff", username="receiver")
    for i in range(4):  # members/ needs more rows than the small page
        make_actor(ORG_A, "window_staff", username=f"colleague-{i}")
    receiver = Organisation.objects.get(code=ORG_B)
    now = timezone.now()
    for i in range(ROWS):
        company = CompanyFactory(registered_by=staff.organisation)
        ConsentFactory(company=company, organisation=staff.organisation)
        consultation = consultation_create(
            actor=staff,
            company=company,
            occurred_at=now - dt.timedelta(hours=i + 1),
            channel="visit",
            duration_minutes=30,
            topics=["patent", "trademark"],
            ip_types=["patent"],
            summary=f"相談 {i}",
            follow_up_on=timezone.localdate() + dt.timedelta(days=i % 10),
            attendees=[ORG_B],
        )
        outcome_record(
            actor=staff,
            case=consultation.case,
            kind="filing",
            occurred_on=timezone.localdate(),
            reference=f"特願2025-{i:06d}",
        )
        referral_send(
            actor=staff,
            case=consultation.case,
            to_organisation=receiver,
            reason="専門家の助言",
            topics=["patent", "overseas"],
        )
        EnrolmentFactory(company=company)
        Notification.objects.create(
            recipient=staff.user,
            kind="test",
            message=f"通知 {i}",
            object_type="case",
            object_id=str(consultation.case_id),
        )
        Export.objects.create(
            requested_by=staff.user,
            organisation=staff.organisation,
            role=staff.role,
            kind=Export.Kind.CONSULTATIONS,
            fiscal_year=2025,
            format=Export.Format.CSV,
            expires_at=now + dt.timedelta(days=7),
        )
        event = event_create(
            actor=staff,
            title=f"セミナー {i}",
            kind="seminar",
            starts_at=now + dt.timedelta(days=i + 1),
            is_online=True,
            topics=["patent"],
            cohosts=[ORG_B],
        )
        attendee_register(actor=staff, event=event, company=company)
        Survey.objects.create(
            organisation=staff.organisation,
            company=company,
            source="consultation",
            consultation=consultation,
            due_on=timezone.localdate(),
            fiscal_year=2026,
            status="answered",
            score=4,
            comment=f"回答 {i}",
        )
    return {"window_staff": staff, "org_admin": admin}


def queries_for(client, url, params=None) -> tuple[int, int]:
    """Return (number of queries, number of rows) of one GET."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, (url, response.content[:300])
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    return len(captured.captured_queries), len(rows)


def test_list_queries_do_not_grow_with_the_page(api, world):
    """One world for every list (building it is the slow part)."""
    grown = {}
    for url, role in sorted(LISTS.items()):
        client = api(world[role])
        client.get(url, {"page_size": 1})  # warm per-process caches (content types…)

        small, small_rows = queries_for(client, url, {"page_size": 3})
        large, large_rows = queries_for(client, url, {"page_size": ROWS})

        assert small_rows == 3 and large_rows > 3, (url, small_rows, large_rows)
        if large != small:
            grown[url] = f"{small} queries for 3 rows, {large} for {large_rows}"

    assert grown == {}


@pytest.mark.parametrize("template", NESTED)
def test_nested_list_queries_do_not_grow_with_the_rows(api, network, template):
    staff = make_actor(ORG_A, "window_staff")
    company = CompanyFactory(registered_by=staff.organisation)
    url = template.format(pk=company.pk)
    client = api(staff)

    def add(n):
        for _ in range(n):
            ContactFactory(company=company, organisation=staff.organisation)
            ConsentFactory(
                company=company, organisation=staff.organisation, scope="organisations"
            ).organisations.set(Organisation.objects.filter(code__in=[ORG_B, "jpo"]))

    add(3)
    client.get(url)
    small, small_rows = queries_for(client, url)
    add(ROWS - 3)
    large, large_rows = queries_for(client, url)

    assert (small_rows, large_rows) == (3, ROWS)
    assert large == small, f"{url}: {small} queries for 3 rows, {large} for 30"
