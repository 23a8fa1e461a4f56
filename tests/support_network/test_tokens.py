"""API tokens with a lifetime (API.md "Accounts": auth/token/, revoke, password change).

Tokens are django-rest-knox's, sent as `Authorization: Token <token>`; they
end when they expire, when revoked, on a password change (except the
caller's), on the user's deactivation and when the user has no active
membership left.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from support_network.models import Membership
from support_network.tokens import user_tokens_revoke
from tests.conftest import ORG_A, ORG_B, make_actor

PASSWORD = "pass-1234-word"  # conftest.make_actor
NEW_PASSWORD = "Kawasemi-no-sora-2026"


@pytest.fixture
def staff(network):
    return make_actor(ORG_A, "window_staff")


def token_for(username, password=PASSWORD, **extra):
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password, **extra},
        format="json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> int:
    return client_with(token).get("/api/v1/prefectures/").status_code


def test_token_comes_with_its_expiry_ten_hours_ahead(staff):
    before = timezone.now()

    body = token_for(staff.user.username)

    assert set(body) == {"token", "expires_at"}
    expires_at = parse_datetime(body["expires_at"])
    assert (
        before + dt.timedelta(hours=10)
        <= expires_at
        <= timezone.now() + dt.timedelta(hours=10)
    )
    assert works(body["token"]) == 200


def test_token_is_stored_hashed_not_in_clear(staff):
    token = token_for(staff.user.username)["token"]

    row = AuthToken.objects.get(user=staff.user)
    assert row.digest != token and token not in row.digest


def test_expired_token_is_refused_in_japanese(staff):
    token = token_for(staff.user.username)["token"]

    with time_machine.travel(timezone.now() + dt.timedelta(hours=9, minutes=59)):
        assert works(token) == 200
    with time_machine.travel(timezone.now() + dt.timedelta(hours=10, minutes=1)):
        response = client_with(token).get("/api/v1/prefectures/")

    assert response.status_code == 401
    assert "有効期限" in response.json()["detail"]


@override_settings(REST_KNOX={"TOKEN_TTL": dt.timedelta(hours=2)})
def test_lifetime_is_a_setting(staff):
    body = token_for(staff.user.username)

    expires_at = parse_datetime(body["expires_at"])
    assert expires_at < timezone.now() + dt.timedelta(hours=2, minutes=1)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2, minutes=1)):
        assert works(body["token"]) == 401


def test_revoke_ends_that_token_only(staff):
    first = token_for(staff.user.username)["token"]
    second = token_for(staff.user.username)["token"]

    response = client_with(first).post("/api/v1/auth/token/revoke/")

    assert response.status_code == 204
    assert works(first) == 401
    assert works(second) == 200


def test_revoke_needs_a_token(staff):
    assert APIClient().post("/api/v1/auth/token/revoke/").status_code == 401


def test_password_change_ends_other_tokens_and_sessions_but_not_the_callers(staff):
    caller = token_for(staff.user.username)["token"]
    other = token_for(staff.user.username)["token"]
    browser = Client()
    browser.force_login(staff.user)
    assert browser.get("/").status_code == 200

    response = client_with(caller).post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert works(caller) == 200
    assert works(other) == 401
    # The open web session is logged out: the home page sends it to the login.
    assert browser.get("/").status_code == 302
    staff.user.refresh_from_db()
    assert staff.user.check_password(NEW_PASSWORD)
    assert token_for(staff.user.username, NEW_PASSWORD)["token"]


def test_password_change_through_a_web_session_keeps_that_session(staff):
    browser = Client()
    browser.force_login(staff.user)
    other_browser = Client()
    other_browser.force_login(staff.user)
    token = token_for(staff.user.username)["token"]

    response = browser.post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert browser.get("/").status_code == 200
    assert other_browser.get("/").status_code == 302
    assert works(token) == 401


def test_wrong_current_password_is_a_400_on_old_password(staff):
    token = token_for(staff.user.username)["token"]

    response = client_with(token).post(
        "/api/v1/auth/password/change/",
        {"old_password": "not-it", "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 400
    assert "現在のパスワード" in response.json()["old_password"][0]
    staff.user.refresh_from_db()
    assert staff.user.check_password(PASSWORD)


@pytest.mark.parametrize("weak", ["12345678", "short", "password"])
def test_weak_new_password_is_refused_by_djangos_validators_in_japanese(staff, weak):
    token = token_for(staff.user.username)["token"]

    response = client_with(token).post(
        "/api/v1/auth/password/change/",
        {"old_password": PASSWORD, "new_password": weak},
        format="json",
    )

    assert response.status_code == 400
    message = response.json()["new_password"][0]
    assert "パスワード" in message
    staff.user.refresh_from_db()
    assert staff.user.check_password(PASSWORD)
    assert works(token) == 200


def test_deactivated_users_token_stops_working(staff):
    token = token_for(staff.user.username)["token"]

    staff.user.is_active = False
    staff.user.save(update_fields=["is_active"])

    response = client_with(token).get("/api/v1/prefectures/")
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_deactivated_superusers_token_stops_working(superuser_actor):
    token = token_for(superuser_actor.user.username, "pw")["token"]

    superuser_actor.user.is_active = False
    superuser_actor.user.save(update_fields=["is_active"])

    assert works(token) == 401


def test_token_of_a_user_whose_only_membership_ended_is_refused(staff):
    token = token_for(staff.user.username)["token"]

    Membership.objects.filter(user=staff.user).update(is_active=False)

    response = client_with(token).get("/api/v1/prefectures/")
    assert response.status_code == 401
    assert "所属" in response.json()["detail"]


def test_a_token_acts_no_more_through_an_ended_membership_of_several(staff):
    make_actor(ORG_B, "window_staff", username=staff.user.username)
    token = token_for(staff.user.username)["token"]
    client = client_with(token)
    assert client.get("/api/v1/cases/", HTTP_X_ORGANISATION=ORG_A).status_code == 200

    Membership.objects.filter(user=staff.user, organisation__code=ORG_A).update(
        is_active=False
    )

    assert client.get("/api/v1/cases/", HTTP_X_ORGANISATION=ORG_A).status_code == 403
    assert client.get("/api/v1/cases/", HTTP_X_ORGANISATION=ORG_B).status_code == 200


def test_superuser_without_membership_keeps_a_working_token(superuser_actor):
    token = token_for(superuser_actor.user.username, "pw")["token"]

    assert works(token) == 200


def test_user_tokens_revoke_keeps_only_the_given_token(staff):
    keep = token_for(staff.user.username)["token"]
    token_for(staff.user.username)
    token_for(staff.user.username)
    kept = AuthToken.objects.get(token_key=keep[:15])

    assert user_tokens_revoke(user=staff.user, keep=kept) == 2

    assert works(keep) == 200
    assert AuthToken.objects.filter(user=staff.user).count() == 1
    assert user_tokens_revoke(user=staff.user) == 1
    assert works(keep) == 401


def test_old_style_header_of_an_unknown_token_is_a_401_in_japanese(db):
    response = client_with("0" * 40).get("/api/v1/prefectures/")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_a_client_still_sending_its_expired_token_gets_a_new_one(staff):
    old = token_for(staff.user.username)["token"]

    with time_machine.travel(timezone.now() + dt.timedelta(hours=11)):
        response = client_with(old).post(
            "/api/v1/auth/token/",
            {"username": staff.user.username, "password": PASSWORD},
            format="json",
        )
        assert response.status_code == 200
        assert works(response.json()["token"]) == 200
