"""GET /api/v1/audit-events/: the acting organisation's trail, for its org admins."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import AuditEvent
from crm.services.audit import audit_record
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CaseFactory

URL = "/api/v1/audit-events/"


@pytest.fixture
def admin_a(network):
    return make_actor(ORG_A, "org_admin")


@pytest.fixture
def admin_b(network):
    return make_actor(ORG_B, "org_admin")


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_viewing_a_case_shows_in_the_org_admins_trail(api, admin_a, staff_a):
    case = CaseFactory()
    assert api(staff_a).get(f"/api/v1/cases/{case.pk}/").status_code == 200

    rows = api(admin_a).get(URL, {"action": "case.view"}).json()["results"]

    assert len(rows) == 1
    assert rows[0]["actor"] == staff_a.user.username
    assert rows[0]["organisation"] == ORG_A
    assert rows[0]["object"] == {"type": "case", "id": str(case.pk)}
    assert set(rows[0]) == {
        "id",
        "at",
        "action",
        "actor",
        "organisation",
        "object",
        "data",
        "changes",
    }
    assert rows[0]["changes"] == {}  # a view changes nothing


def test_newest_first_and_keyset_pages(api, admin_a, staff_a):
    start = timezone.now() - dt.timedelta(days=1)
    for minutes in range(5):
        audit_record(
            actor=staff_a,
            action="test.event",
            now=start + dt.timedelta(minutes=minutes),
        )
    client = api(admin_a)

    first = client.get(URL, {"action": "test.event", "page_size": 3}).json()
    second = client.get(first["next"]).json()

    ats = [row["at"] for row in first["results"] + second["results"]]
    assert len(ats) == 5 and ats == sorted(ats, reverse=True)


def test_filters_by_object_actor_and_action_prefix(api, admin_a, staff_a, staff_a2):
    case, other = CaseFactory(), CaseFactory()
    audit_record(actor=staff_a, action="case.view", obj=case)
    audit_record(actor=staff_a2, action="case.view", obj=other)
    audit_record(actor=staff_a2, action="referral.send", obj=other)
    client = api(admin_a)

    assert len(ids(client.get(URL, {"object": f"case:{case.pk}"}))) == 1
    assert len(ids(client.get(URL, {"object": "case"}))) == 3
    assert len(ids(client.get(URL, {"actor": staff_a2.user.username}))) == 2
    assert len(ids(client.get(URL, {"action": "referral."}))) == 1
    assert ids(client.get(URL, {"actor": "nobody"})) == []

    bad = client.get(URL, {"object": "case:"})
    assert bad.status_code == 400 and "object" in bad.json()


def test_another_organisations_trail_does_not_exist(api, admin_a, admin_b, staff_a):
    audit_record(actor=staff_a, action="case.view", obj=CaseFactory())
    event = AuditEvent.objects.get(action="case.view")

    assert ids(api(admin_b).get(URL, {"action": "case.view"})) == []
    assert api(admin_b).get(f"{URL}{event.pk}/").status_code == 404
    assert api(admin_a).get(f"{URL}{event.pk}/").json()["id"] == event.pk


@pytest.mark.parametrize("role", ["window_staff", "coordinator", "manager", "expert"])
def test_other_roles_are_refused(api, network, role):
    actor = make_actor(ORG_A, role)

    response = api(actor).get(URL)

    assert response.status_code == 403
    assert response.json()["code"] == "org_admin_only"


def test_superusers_read_every_event(api, superuser_actor, staff_a, staff_b):
    audit_record(actor=staff_a, action="test.event")
    audit_record(actor=staff_b, action="test.event")

    assert len(ids(api(superuser_actor).get(URL, {"action": "test.event"}))) == 2


def test_logins_of_the_organisations_accounts_are_in_its_trail(api, admin_a, staff_a):
    from rest_framework.test import APIClient

    APIClient().post(
        "/api/v1/auth/token/",
        {"username": staff_a.user.username, "password": "wrong"},
        format="json",
    )

    rows = api(admin_a).get(URL, {"action": "auth."}).json()["results"]

    assert [(r["action"], r["object"]["id"]) for r in rows] == [
        ("auth.login_failed", str(staff_a.user.pk))
    ]
