"""Logins: audit events for each login and failed login, and the lockout.

django-axes locks a username + address pair out after AXES_FAILURE_LIMIT
(5) failures in a row, for AXES_COOLOFF_TIME (15 minutes), on the web login
form and on POST /api/v1/auth/token/ alike; an address with
AXES_ADDRESS_FAILURE_LIMIT failures over any usernames is locked out too.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import AuditEvent
from tests.conftest import ORG_A, make_actor

PASSWORD = "pass-1234-word"  # conftest.make_actor


@pytest.fixture
def staff(network):
    return make_actor(ORG_A, "window_staff")


def web_login(client, username, password, ip="127.0.0.1"):
    return client.post(
        "/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def api_login(username, password, ip="127.0.0.1"):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=ip,
    )


def test_web_login_writes_an_audit_event_of_the_users_organisation(client, staff):
    response = web_login(client, staff.user.username, PASSWORD)

    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == staff.user
    assert event.organisation.code == ORG_A
    assert (event.object_type, event.object_id) == ("user", str(staff.user.pk))
    assert event.data == {"via": "web", "ip": "127.0.0.1"}


def test_failed_web_login_writes_an_audit_event_without_the_password(client, staff):
    response = web_login(client, staff.user.username, "wrong-password")

    assert response.status_code == 200
    assert "ユーザー名" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None
    assert event.organisation.code == ORG_A  # its org admins see the attempt
    assert event.object_id == str(staff.user.pk)
    assert event.data["username"] == staff.user.username
    assert "wrong-password" not in str(event.data)
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_failed_login_for_an_unknown_name_belongs_to_no_organisation(client, network):
    web_login(client, "nobody-here", "whatever")

    event = AuditEvent.objects.get(action="auth.login_failed")
    assert (event.organisation, event.object_type) == (None, "")
    assert event.data["username"] == "nobody-here"


def test_five_failures_lock_the_name_out_of_the_web_login_in_japanese(client, staff):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert web_login(client, name, "wrong").status_code == 200

    locked = web_login(client, name, "wrong")

    assert locked.status_code == 429
    html = locked.content.decode()
    assert "ログインできません" in html and "15 分" in html
    # Even the right password is refused while locked out, and not logged in.
    again = web_login(client, name, PASSWORD)
    assert again.status_code == 429
    assert client.get("/").status_code == 302
    assert AuditEvent.objects.filter(
        action="auth.login_failed", data__locked_out=True
    ).exists()


def test_the_lockout_is_per_name_and_address(client, staff, network):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(client, name, "wrong", ip="192.0.2.10")

    # A colleague behind the same address, and the same name elsewhere, go on.
    other = make_actor(ORG_A, "window_staff", username="colleague")
    assert (
        web_login(client, other.user.username, PASSWORD, ip="192.0.2.10").status_code
        == 302
    )
    assert web_login(client, name, PASSWORD, ip="192.0.2.20").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, staff):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        web_login(client, name, "wrong")
    assert web_login(client, name, PASSWORD).status_code == 429

    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later):
        assert web_login(client, name, PASSWORD).status_code == 302


def test_a_success_before_the_limit_clears_the_failures(client, staff):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        web_login(client, name, "wrong")
    assert web_login(client, name, PASSWORD).status_code == 302
    client.post("/logout/")

    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert web_login(client, name, "wrong").status_code == 200


def test_api_token_login_is_audited(staff):
    response = api_login(staff.user.username, PASSWORD)

    assert response.status_code == 200
    event = AuditEvent.objects.get(action="auth.login")
    assert (event.actor, event.data["via"]) == (staff.user, "api")

    assert api_login(staff.user.username, "wrong").status_code == 400
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.data["via"] == "api"


def test_api_token_login_locks_out_with_a_japanese_429(staff):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert api_login(name, "wrong").status_code == 400

    locked = api_login(name, "wrong")

    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "locked_out"
    assert "ログイン" in body["detail"]
    assert int(locked["Retry-After"]) == 15 * 60
    assert "token" not in body
    # The right password gets no token during the lockout.
    right = api_login(name, PASSWORD)
    assert right.status_code == 429 and "token" not in right.json()


def test_web_and_api_failures_count_together(client, staff):
    name = staff.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        api_login(name, "wrong")

    assert web_login(client, name, "wrong").status_code == 429


@override_settings(AXES_ADDRESS_FAILURE_LIMIT=6)
def test_one_address_trying_many_names_is_locked_out(client, network):
    """Password spraying: a few tries on each of many accounts from one address."""
    for n in range(6):
        make_actor(ORG_A, "window_staff", username=f"sprayed-{n}")
        assert (
            web_login(client, f"sprayed-{n}", "guess", ip="198.51.100.7").status_code
            == 200
        )
    colleague = make_actor(ORG_A, "window_staff", username="colleague")

    refused = web_login(client, colleague.user.username, PASSWORD, ip="198.51.100.7")
    token = api_login(colleague.user.username, PASSWORD, ip="198.51.100.7")

    assert refused.status_code == 429
    assert "ログインできません" in refused.content.decode()
    assert token.status_code == 429 and token.json()["code"] == "locked_out"
    # Another address is not concerned.
    assert (
        web_login(
            client, colleague.user.username, PASSWORD, ip="198.51.100.8"
        ).status_code
        == 302
    )
