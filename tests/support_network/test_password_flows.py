"""A user's own password: reset by e-mail (web and API), change, validators."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from tests.conftest import ORG_A, make_actor

LINK = re.compile(r"http://[^\s]+(/password-reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "Sora-to-umi-2026"


@pytest.fixture
def staff(network):
    actor = make_actor(ORG_A, "window_staff", username="kato")
    actor.user.email = "kato@example.jp"
    actor.user.last_name, actor.user.first_name = "加藤", "三郎"
    actor.user.save()
    return actor


@pytest.fixture
def ask_reset(django_capture_on_commit_callbacks):
    """Return a function posting the reset form; the queued mail is sent (eager)."""

    def post(email: str):
        with django_capture_on_commit_callbacks(execute=True):
            return Client().post("/password-reset/", {"email": email})

    return post


def link_from_mail() -> str:
    assert len(mail.outbox) == 1
    return LINK.search(mail.outbox[0].body).group(1)


def set_password(client: Client, path: str, password: str, again: str | None = None):
    form = client.get(path, follow=True)
    return client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else path,
        {"new_password1": password, "new_password2": again or password},
    )


def test_login_page_links_to_password_reset(db):
    html = Client().get("/login/").content.decode()

    assert "パスワードを忘れた方" in html
    assert 'href="/password-reset/"' in html


def test_web_reset_mails_a_link_that_sets_the_password(staff, ask_reset):
    response = ask_reset("KATO@example.jp")

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/done/"
    message = mail.outbox[0]
    assert message.to == ["kato@example.jp"]
    assert "パスワードの再設定" in message.subject
    assert "加藤 三郎 様" in message.body
    assert settings.CRM_SITE_URL in message.body  # not the request's Host
    done = set_password(Client(), link_from_mail(), NEW_PASSWORD)
    assert done["Location"] == "/password-reset/complete/"
    login = Client().post("/login/", {"username": "kato", "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_web_reset_answers_the_same_for_an_unknown_address(staff, ask_reset):
    known = ask_reset("kato@example.jp")
    mail.outbox.clear()

    unknown = ask_reset("nobody@example.jp")

    assert (unknown.status_code, unknown["Location"]) == (
        known.status_code,
        known["Location"],
    )
    assert mail.outbox == []
    page = Client().get(unknown["Location"]).content.decode()
    assert "登録されていれば" in page


def test_api_reset_is_202_whatever_the_address(
    staff, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(
            "/api/v1/auth/password/reset/",
            {"email": "kato@example.jp"},
            content_type="application/json",
        )
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(
            "/api/v1/auth/password/reset/",
            {"email": "nobody@example.jp"},
            content_type="application/json",
        )

    assert (known.status_code, unknown.status_code) == (202, 202)
    assert known.json() == unknown.json()
    assert sent == 1
    assert len(mail.outbox) == 1  # nothing for the unknown address
    assert "/password-reset/" in mail.outbox[0].body


def test_api_reset_without_an_address_is_a_400(db):
    response = Client().post(
        "/api/v1/auth/password/reset/", {}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "email" in response.json()


def test_an_invited_member_without_a_password_may_ask_for_a_new_link(
    api, network, django_capture_on_commit_callbacks, ask_reset
):
    admin = make_actor(ORG_A, "org_admin", username="admin-a")
    with django_capture_on_commit_callbacks(execute=True):
        api(admin).post(
            "/api/v1/members/",
            {
                "username": "ito",
                "email": "ito@example.jp",
                "name": "伊藤 四郎",
                "role": "window_staff",
            },
            format="json",
        )
    mail.outbox.clear()

    ask_reset("ito@example.jp")

    assert set_password(Client(), link_from_mail(), NEW_PASSWORD).status_code == 302


def test_the_link_expires_after_password_reset_timeout(staff, ask_reset):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ask_reset("kato@example.jp")
    path = link_from_mail()
    assert settings.PASSWORD_RESET_TIMEOUT == 72 * 3600

    late = start + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    with time_machine.travel(late, tick=False):
        expired = Client().get(path, follow=True)
    in_time = start + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 60)
    with time_machine.travel(in_time, tick=False):
        valid = Client().get(path, follow=True)

    assert "このリンクは使えません。有効期限が過ぎたか" in expired.content.decode()
    assert "新しいパスワードを 2 回入力してください" in valid.content.decode()


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("12345678", "このパスワードは数字しか使われていません。"),
        ("password", "このパスワードは一般的すぎます。"),
        ("kT9!x", "このパスワードは短すぎます。最低 8 文字以上必要です。"),
    ],
)
def test_a_weak_password_is_refused_in_japanese(staff, ask_reset, password, message):
    ask_reset("kato@example.jp")

    response = set_password(Client(), link_from_mail(), password)

    assert response.status_code == 200
    assert message in response.content.decode()
    staff.user.refresh_from_db()
    assert staff.user.check_password("pass-1234-word")


def test_password_change_ends_other_sessions_and_api_tokens(staff):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert (
            client.post(
                "/login/", {"username": "kato", "password": "pass-1234-word"}
            ).status_code
            == 302
        )
    token = Client().post(
        "/api/v1/auth/token/",
        {"username": "kato", "password": "pass-1234-word"},
        content_type="application/json",
    )
    token = token.json()["token"]

    response = here.post(
        "/password/change/",
        {
            "old_password": "pass-1234-word",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/password/change/done/"
    assert (
        "パスワードを変更しました"
        in here.get("/password/change/done/").content.decode()
    )
    assert here.get("/companies/").status_code == 200  # this session stays
    assert elsewhere.get("/companies/").status_code == 302  # to the login
    api = Client().get("/api/v1/companies/", HTTP_AUTHORIZATION=f"Token {token}")
    assert api.status_code == 401


def test_password_change_page_refuses_a_wrong_old_password_in_japanese(staff):
    client = Client()
    client.force_login(staff.user)

    response = client.post(
        "/password/change/",
        {
            "old_password": "wrong",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "元のパスワードが間違っています" in response.content.decode()
