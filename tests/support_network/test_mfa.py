"""The second factor: TOTP (RFC 6238, 30 s, 6 digits, SHA-1) with recovery codes.

Codes are computed for real from the secret the enrolment hands out
(django_otp.oath.totp), and time moves with time-machine: a code is good
for its 30-second step, once.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import re
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from crm.models import AuditEvent
from support_network import mfa
from tests.conftest import ORG_A, make_actor

PASSWORD = "pass-1234-word"  # conftest.make_actor
START = dt.datetime(2026, 12, 3, 9, 0, 0, tzinfo=dt.UTC)
REQUIRED = override_settings(CRM_MFA_REQUIRED_ROLES=["org_admin", "manager"])


def code_for(secret: str) -> str:
    """Return the current TOTP code of a base32 secret (at the travelled time)."""
    return f"{totp(base64.b32decode(secret), step=30, digits=6):06d}"


def wrong_code(secret: str, plus: int = 1) -> str:
    """Return a 6-digit code that is not the current one."""
    return f"{(int(code_for(secret)) + plus) % 1_000_000:06d}"


@pytest.fixture
def clock():
    """Frozen time that tests move on in whole TOTP steps."""
    with time_machine.travel(START, tick=False) as traveller:

        class Clock:
            def step(self, n: int = 1) -> None:
                traveller.shift(dt.timedelta(seconds=30 * n))

        yield Clock()


@pytest.fixture
def staff(network):
    return make_actor(ORG_A, "window_staff")


def api_as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def enrol(user, clock) -> dict:
    """Enrol user through the API; return the enrolment answer."""
    client = api_as(user)
    body = client.post("/api/v1/auth/mfa/totp/").json()
    response = client.post(
        "/api/v1/auth/mfa/totp/confirm/",
        {"code": code_for(body["secret"])},
        format="json",
    )
    assert response.status_code == 200, response.content
    clock.step()  # the confirming code is used up
    return body


def token_request(username, **extra):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": PASSWORD, **extra},
        format="json",
    )


# --- API: enrolment ----------------------------------------------------------


def test_enrolment_hands_out_a_pending_rfc6238_device_and_ten_recovery_codes(
    staff, clock
):
    response = api_as(staff.user).post("/api/v1/auth/mfa/totp/")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"secret", "otpauth_uri", "recovery_codes"}
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    params = {k: v[0] for k, v in parse_qs(uri.query).items()}
    assert params["secret"] == body["secret"]
    assert (params["algorithm"], params["digits"], params["period"]) == (
        "SHA1",
        "6",
        "30",
    )
    assert staff.user.username in uri.path
    assert len(body["recovery_codes"]) == 10
    assert len(set(body["recovery_codes"])) == 10
    # Pending: the login does not ask for a code yet.
    assert token_request(staff.user.username).status_code == 200


def test_confirming_with_a_wrong_code_is_a_400_in_japanese(staff, clock):
    client = api_as(staff.user)
    secret = client.post("/api/v1/auth/mfa/totp/").json()["secret"]
    wrong = wrong_code(secret)

    response = client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": wrong}, format="json"
    )

    assert response.status_code == 400
    assert "確認コード" in response.json()["code"][0]
    assert not mfa.user_has_second_factor(staff.user)
    assert token_request(staff.user.username).status_code == 200


def test_confirming_with_the_apps_code_activates_the_device(staff, clock):
    client = api_as(staff.user)
    secret = client.post("/api/v1/auth/mfa/totp/").json()["secret"]

    response = client.post(
        "/api/v1/auth/mfa/totp/confirm/", {"code": code_for(secret)}, format="json"
    )

    assert response.status_code == 200
    assert mfa.user_has_second_factor(staff.user)


# --- API: tokens of a user with a second factor ------------------------------


def test_token_without_otp_is_refused_with_otp_required(staff, clock):
    enrol(staff.user, clock)

    response = token_request(staff.user.username)

    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "otp_required"
    assert "確認コード" in body["detail"] or "二要素認証" in body["detail"]
    assert "token" not in body


def test_token_with_a_wrong_otp_is_refused_and_counted_as_a_failed_login(staff, clock):
    secret = enrol(staff.user, clock)["secret"]
    wrong = wrong_code(secret, 7)

    response = token_request(staff.user.username, otp=wrong)

    assert response.status_code == 401
    assert response.json()["code"] == "otp_required"
    assert AuditEvent.objects.filter(action="auth.login_failed").count() == 1


def test_token_with_the_current_otp_is_handed_out_once_per_code(staff, clock):
    secret = enrol(staff.user, clock)["secret"]
    code = code_for(secret)

    response = token_request(staff.user.username, otp=code)

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}
    # The same code again (a replay) is refused; the next step's code works.
    assert token_request(staff.user.username, otp=code).status_code == 401
    clock.step(2)
    assert token_request(staff.user.username, otp=code_for(secret)).status_code == 200


def test_a_recovery_code_works_once(staff, clock):
    codes = enrol(staff.user, clock)["recovery_codes"]

    first = token_request(staff.user.username, otp=codes[0])
    clock.step(2)  # past django-otp's throttling of the failure below
    again = token_request(staff.user.username, otp=codes[0])
    clock.step(4)
    other = token_request(staff.user.username, otp=codes[1].upper())

    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "otp_required"
    assert other.status_code == 200


def test_a_new_enrolment_replaces_the_old_device_only_once_confirmed(staff, clock):
    old = enrol(staff.user, clock)
    client = api_as(staff.user)
    new = client.post("/api/v1/auth/mfa/totp/").json()

    # Still the old device until the new one is confirmed.
    assert (
        token_request(staff.user.username, otp=code_for(old["secret"])).status_code
        == 200
    )
    clock.step()
    assert (
        client.post(
            "/api/v1/auth/mfa/totp/confirm/",
            {"code": code_for(new["secret"])},
            format="json",
        ).status_code
        == 200
    )
    clock.step()

    assert (
        token_request(staff.user.username, otp=code_for(old["secret"])).status_code
        == 401
    )
    clock.step(3)
    assert (
        token_request(staff.user.username, otp=old["recovery_codes"][0]).status_code
        == 401
    )
    clock.step(3)
    assert (
        token_request(staff.user.username, otp=new["recovery_codes"][0]).status_code
        == 200
    )


# --- Web: the login's second step -------------------------------------------


def web_password_step(client, username, next_url=None):
    data = {"username": username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/login/", data, REMOTE_ADDR="127.0.0.1")


def test_web_login_asks_for_the_code_after_the_password(staff, clock):
    secret = enrol(staff.user, clock)["secret"]
    client = Client()

    response = web_password_step(client, staff.user.username)

    assert response.status_code == 302
    assert response["Location"] == "/login/otp/"
    # Not logged in yet: the site still sends to the login.
    assert client.get("/").status_code == 302
    page = client.get("/login/otp/")
    assert page.status_code == 200
    assert "確認コード" in page.content.decode()
    assert not AuditEvent.objects.filter(action="auth.login").exists()

    wrong = client.post("/login/otp/", {"code": wrong_code(secret, 3)})
    assert wrong.status_code == 400
    assert "確認コードが正しくありません" in wrong.content.decode()
    assert client.get("/").status_code == 302

    clock.step(2)  # past the throttling of that failure
    done = client.post("/login/otp/", {"code": code_for(secret)})

    assert done.status_code == 302
    assert done["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.login", actor=staff.user).exists()


def test_web_login_takes_a_recovery_code_and_keeps_next(staff, clock):
    codes = enrol(staff.user, clock)["recovery_codes"]
    client = Client()

    web_password_step(client, staff.user.username, next_url="/referrals/")
    response = client.post("/login/otp/", {"code": codes[3]}, follow=True)

    assert response.redirect_chain[0] == ("/referrals/", 302)
    assert "回復コード" in response.content.decode()  # how many are left
    client.logout()
    web_password_step(client, staff.user.username)
    assert client.post("/login/otp/", {"code": codes[3]}).status_code == 400


def test_code_step_without_the_password_step_goes_back_to_the_login(staff, clock):
    enrol(staff.user, clock)

    response = Client().get("/login/otp/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_users_without_a_second_factor_log_in_with_the_password_alone(staff):
    client = Client()

    response = web_password_step(client, staff.user.username)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_session_opened_without_the_code_is_ended(staff, clock):
    enrol(staff.user, clock)
    client = Client()
    client.force_login(staff.user)  # as the admin's own form would

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/").status_code == 302  # logged out


def test_the_admin_login_is_the_sites_login(db):
    response = Client().get("/admin/login/?next=/admin/crm/case/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fadmin%2Fcrm%2Fcase%2F"


# --- Web: enrolment and the roles that must have it --------------------------


@REQUIRED
def test_manager_without_a_device_must_enrol_before_using_the_site(network, clock):
    manager = make_actor(ORG_A, "manager")
    client = Client()

    login = web_password_step(client, manager.user.username)
    assert login.status_code == 302
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"] == "/account/mfa/?next=%2F"
    assert client.get("/companies/").status_code == 302
    page = client.get("/account/mfa/?next=/")
    assert "必須" in page.content.decode()

    started = client.post("/account/mfa/?next=/", {"action": "start"})
    assert started.status_code == 302
    secret = mfa.totp_secret(TOTPDevice.objects.get(user=manager.user))
    confirmed = client.post(
        "/account/mfa/?next=/", {"action": "confirm", "code": code_for(secret)}
    )

    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/"
    assert client.get("/").status_code == 200  # this session stays verified


@REQUIRED
def test_org_admin_without_a_device_gets_no_api_token(network, clock):
    admin = make_actor(ORG_A, "org_admin")

    response = token_request(admin.user.username)

    assert response.status_code == 401
    assert response.json()["code"] == "mfa_enrolment_required"
    assert "/account/mfa/" in response.json()["detail"]


@REQUIRED
def test_window_staff_are_not_required_to_enrol(staff):
    client = Client()
    web_password_step(client, staff.user.username)

    assert client.get("/").status_code == 200
    assert token_request(staff.user.username).status_code == 200


@override_settings(CRM_MFA_REQUIRED_ROLES=[])
def test_the_requirement_is_a_setting(network):
    manager = make_actor(ORG_A, "manager")
    client = Client()
    web_password_step(client, manager.user.username)

    assert client.get("/").status_code == 200


def test_enrolment_page_shows_a_local_qr_code_secret_and_codes_once(staff, clock):
    client = Client()
    client.force_login(staff.user)
    assert "設定を始める" in client.get("/account/mfa/").content.decode()

    client.post("/account/mfa/", {"action": "start"})
    response = client.get("/account/mfa/")

    html = response.content.decode()
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=staff.user, confirmed=False)
    secret = mfa.totp_secret(device)
    assert "<svg" in html and "</svg>" in html
    assert secret in html
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)
    assert len(codes) == 10
    # Nothing from elsewhere: every src / href is the app's own.
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith(("/", "#", "?")), url
    assert "<script>" not in html and "<script " not in html.replace(
        '<script src="/static/', ""
    )
    assert (
        "unsafe-inline"
        not in response.headers.get("Content-Security-Policy", "")
        .split("script-src")[-1]
        .split(";")[0]
    )

    wrong = client.post("/account/mfa/", {"action": "confirm", "code": "000000"})
    assert wrong.status_code == 400
    assert "確認コードが正しくありません" in wrong.content.decode()
    clock.step(2)
    client.post("/account/mfa/", {"action": "confirm", "code": code_for(secret)})

    after = client.get("/account/mfa/").content.decode()
    assert "二要素認証は有効です" in after
    assert codes[0] not in after and secret not in after


def test_demo_managers_and_org_admins_have_the_documented_secret(network, clock):
    from seeds.demo.generator import DemoGenerator
    from seeds.demo.users import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_USERS

    generator = DemoGenerator(rng=random.Random(1), seed=1, today=START.date())
    generator.create_demo_users()

    for demo in DEMO_USERS:
        client = Client()
        login = client.post(
            "/login/",
            {"username": demo.username, "password": DEMO_PASSWORD},
            REMOTE_ADDR="127.0.0.1",
        )
        if demo.role in ("manager", "org_admin"):
            assert login["Location"] == "/login/otp/", demo
            done = client.post("/login/otp/", {"code": code_for(DEMO_TOTP_SECRET)})
            assert done.status_code == 302, demo
            assert client.get("/").status_code == 200, demo
            clock.step()
        else:
            assert login["Location"] == "/", demo


def test_mfa_reset_removes_the_second_factor_of_a_user_who_lost_the_phone(staff, clock):
    enrol(staff.user, clock)
    assert token_request(staff.user.username).status_code == 401

    out = io.StringIO()
    call_command("mfa_reset", staff.user.username, stdout=out)

    assert "second factor removed" in out.getvalue()
    assert not mfa.user_has_second_factor(staff.user)
    assert token_request(staff.user.username).status_code == 200
    with pytest.raises(CommandError):
        call_command("mfa_reset", "nobody-here")
