"""API `members/`: an organisation runs its own accounts (API.md "Accounts")."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from support_network.models import Membership
from tests.conftest import ORG_A, ORG_B, make_actor

LINK = re.compile(r"http://[^\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def admin_a(network):
    return make_actor(ORG_A, "org_admin", username="admin-a")


def invite(client, **fields):
    body = {
        "username": "yamada",
        "email": "yamada@example.jp",
        "name": "山田 太郎",
        "role": "window_staff",
        **fields,
    }
    return client.post("/api/v1/members/", body, format="json")


def test_org_admin_lists_the_organisation_members_with_the_documented_fields(
    api, admin_a, staff_a, staff_b
):
    staff_a.user.last_name, staff_a.user.first_name = "佐藤", "花子"
    staff_a.user.email = "sato@example.jp"
    staff_a.user.save()

    response = api(admin_a).get("/api/v1/members/")

    assert response.status_code == 200
    rows = {r["username"]: r for r in response.json()["results"]}
    assert set(rows) == {"admin-a", staff_a.user.username}  # not B's staff
    assert rows[staff_a.user.username] == {
        "id": staff_a.membership.pk,
        "user": staff_a.user.pk,
        "username": staff_a.user.username,
        "name": "佐藤 花子",
        "email": "sato@example.jp",
        "role": "window_staff",
        "is_active": True,
        "last_login": None,
    }


@pytest.mark.parametrize("role", ["window_staff", "coordinator", "manager", "expert"])
def test_everybody_but_the_org_admin_is_refused_with_org_admin_only(
    api, network, staff_a, role
):
    actor = make_actor(ORG_A, role, username=f"not-admin-{role}")
    client = api(actor)

    answers = [
        client.get("/api/v1/members/"),
        invite(client),
        client.patch(
            f"/api/v1/members/{staff_a.membership.pk}/",
            {"is_active": False},
            format="json",
        ),
        client.post(f"/api/v1/members/{staff_a.membership.pk}/unlock/"),
    ]

    assert [r.status_code for r in answers] == [403] * 4
    assert {r.json()["code"] for r in answers} == {"org_admin_only"}
    staff_a.membership.refresh_from_db()
    assert staff_a.membership.is_active is True
    assert not get_user_model().objects.filter(username="yamada").exists()


def test_invited_member_sets_a_password_from_the_mail_and_logs_in(
    api, admin_a, django_capture_on_commit_callbacks
):
    admin_a.user.last_name, admin_a.user.first_name = "管理", "一郎"
    admin_a.user.save()

    with django_capture_on_commit_callbacks(execute=True):
        response = invite(api(admin_a), name="山田　太郎")  # full-width space

    assert response.status_code == 201
    body = response.json()
    assert (body["username"], body["name"], body["role"], body["is_active"]) == (
        "yamada",
        "山田 太郎",
        "window_staff",
        True,
    )
    user = get_user_model().objects.get(username="yamada")
    assert (user.last_name, user.first_name, user.has_usable_password()) == (
        "山田",
        "太郎",
        False,
    )
    membership = Membership.objects.get(user=user)
    assert membership.organisation.code == ORG_A
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["yamada@example.jp"]
    assert "招待" in message.subject
    assert "山田 太郎 様" in message.body
    assert "管理 一郎" in message.body
    path = LINK.search(message.body).group(1)

    web = Client()
    form = web.get(path, follow=True)
    assert form.status_code == 200
    assert "パスワードの設定" in form.content.decode()
    done = web.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Kumo-no-ue-2026", "new_password2": "Kumo-no-ue-2026"},
    )
    assert done.status_code == 302
    assert done["Location"] == "/password-reset/complete/"

    login = Client().post(
        "/login/", {"username": "yamada", "password": "Kumo-no-ue-2026"}
    )
    assert login.status_code == 302
    assert login["Location"] == "/"
    # The link worked once.
    again = Client().get(path, follow=True)
    assert "このリンクは使えません" in again.content.decode()


def test_a_taken_login_id_is_a_409_and_nothing_is_created(api, admin_a, staff_b):
    response = invite(api(admin_a), username=staff_b.user.username.upper())

    assert response.status_code == 409
    assert response.json()["code"] == "username_taken"
    assert not Membership.objects.filter(
        user=staff_b.user, organisation__code=ORG_A
    ).exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("role", "boss"), ("email", "not-an-address"), ("username", "山田")],
)
def test_bad_invitation_input_is_a_400_naming_the_field(api, admin_a, field, value):
    response = invite(api(admin_a), **{field: value})

    assert response.status_code == 400
    assert field in response.json()
    assert not get_user_model().objects.filter(email="yamada@example.jp").exists()


def test_org_admin_changes_a_role(api, admin_a, staff_a):
    response = api(admin_a).patch(
        f"/api/v1/members/{staff_a.membership.pk}/",
        {"role": "coordinator"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["role"] == "coordinator"
    staff_a.membership.refresh_from_db()
    assert staff_a.membership.role == "coordinator"


def test_another_organisations_member_does_not_exist(api, admin_a, staff_b):
    client = api(admin_a)
    patch = client.patch(
        f"/api/v1/members/{staff_b.membership.pk}/", {"is_active": False}, format="json"
    )
    unlock = client.post(f"/api/v1/members/{staff_b.membership.pk}/unlock/")

    assert (patch.status_code, unlock.status_code) == (404, 404)
    staff_b.membership.refresh_from_db()
    assert staff_b.membership.is_active is True


def test_the_last_org_admin_cannot_be_deactivated_or_demoted(api, admin_a):
    client = api(admin_a)
    url = f"/api/v1/members/{admin_a.membership.pk}/"

    deactivate = client.patch(url, {"is_active": False}, format="json")
    demote = client.patch(url, {"role": "manager"}, format="json")

    assert (deactivate.status_code, demote.status_code) == (409, 409)
    assert {deactivate.json()["code"], demote.json()["code"]} == {"last_org_admin"}
    admin_a.membership.refresh_from_db()
    assert (admin_a.membership.role, admin_a.membership.is_active) == (
        "org_admin",
        True,
    )


def test_with_a_second_org_admin_one_may_step_down(api, admin_a, network):
    second = make_actor(ORG_A, "org_admin", username="admin-a2")

    response = api(admin_a).patch(
        f"/api/v1/members/{second.membership.pk}/", {"role": "manager"}, format="json"
    )
    last = api(admin_a).patch(
        f"/api/v1/members/{admin_a.membership.pk}/", {"role": "manager"}, format="json"
    )

    assert response.status_code == 200
    assert last.status_code == 409  # admin-a is now the only one


def token_for(username: str, password: str = "pass-1234-word") -> str:
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_deactivation_ends_the_members_token_and_session_at_once(api, admin_a, staff_a):
    token = token_for(staff_a.user.username)
    session = Client()
    session.force_login(staff_a.user)
    before_api = Client().get("/api/v1/companies/", HTTP_AUTHORIZATION=f"Token {token}")
    before_web = session.get("/companies/")
    assert (before_api.status_code, before_web.status_code) == (200, 200)

    response = api(admin_a).patch(
        f"/api/v1/members/{staff_a.membership.pk}/", {"is_active": False}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    after_api = Client().get("/api/v1/companies/", HTTP_AUTHORIZATION=f"Token {token}")
    assert after_api.status_code in (401, 403)
    after_web = session.get("/companies/")
    assert after_web.status_code == 403
    assert "どの組織にも所属していません" in after_web.content.decode()
    home = session.get("/")
    assert "所属組織がありません" in home.content.decode()


def test_deactivation_ends_acting_for_that_organisation_only(api, admin_a, staff_a):
    Membership.objects.create(
        user=staff_a.user,
        organisation=make_actor(ORG_B, "org_admin").organisation,
        role="window_staff",
    )
    token = token_for(staff_a.user.username)
    as_a = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_X_ORGANISATION": ORG_A}
    as_b = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_X_ORGANISATION": ORG_B}
    session = Client()
    session.force_login(staff_a.user)
    session.post("/organisation/", {"organisation": ORG_A})
    assert Client().get("/api/v1/companies/", **as_a).status_code == 200

    api(admin_a).patch(
        f"/api/v1/members/{staff_a.membership.pk}/", {"is_active": False}, format="json"
    )

    refused = Client().get("/api/v1/companies/", **as_a)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_a_member"
    assert Client().get("/api/v1/companies/", **as_b).status_code == 200
    # The web session falls back to the membership still active.
    page = session.get("/companies/")
    assert page.status_code == 200
    assert page.context["current_membership"].organisation.code == ORG_B


def test_reactivation_gives_access_back(api, admin_a, staff_a):
    client = api(admin_a)
    url = f"/api/v1/members/{staff_a.membership.pk}/"
    client.patch(url, {"is_active": False}, format="json")

    response = client.patch(url, {"is_active": True}, format="json")

    assert response.status_code == 200
    session = Client()
    session.force_login(staff_a.user)
    assert session.get("/companies/").status_code == 200


def bad_logins(username: str, times: int) -> None:
    for _i in range(times):
        Client().post("/login/", {"username": username, "password": "wrong-guess"})


def test_unlock_clears_a_lockout(api, admin_a, staff_a):
    username = staff_a.user.username
    bad_logins(username, 5)
    locked = Client().post(
        "/login/", {"username": username, "password": "pass-1234-word"}
    )
    assert locked.status_code == 429

    response = api(admin_a).post(f"/api/v1/members/{staff_a.membership.pk}/unlock/")

    assert response.status_code == 200
    assert response.json()["username"] == username
    login = Client().post(
        "/login/", {"username": username, "password": "pass-1234-word"}
    )
    assert login.status_code == 302


def test_account_changes_are_in_the_organisations_audit_trail(api, admin_a, staff_a):
    client = api(admin_a)
    client.patch(
        f"/api/v1/members/{staff_a.membership.pk}/",
        {"role": "coordinator"},
        format="json",
    )

    events = client.get("/api/v1/audit-events/", {"action": "member."}).json()[
        "results"
    ]

    assert [(e["action"], e["actor"], e["data"]["changes"]) for e in events] == [
        ("member.changed", "admin-a", {"role": ["window_staff", "coordinator"]})
    ]


def test_the_schema_describes_members(api, admin_a):
    schema = api(admin_a).get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert set(paths["/api/v1/members/"]) >= {"get", "post"}
    assert "patch" in paths["/api/v1/members/{id}/"]
    assert "post" in paths["/api/v1/members/{id}/unlock/"]
    member = schema["components"]["schemas"]["Member"]["properties"]
    assert set(member) == {
        "id",
        "user",
        "username",
        "name",
        "email",
        "role",
        "is_active",
        "last_login",
    }


@pytest.mark.django_db(transaction=True)
def test_two_org_admins_deactivating_each_other_at_once_leave_one(network, monkeypatch):
    import threading
    import time

    from django.db import connection

    from support_network.errors import Conflict
    from support_network.services import accounts as services_accounts

    first = make_actor(ORG_A, "org_admin", username="admin-a")
    second = make_actor(ORG_A, "org_admin", username="admin-a2")
    check = services_accounts._would_leave_no_org_admin

    def slow_check(*args):
        answer = check(*args)
        time.sleep(0.3)  # both requests would pass an unlocked check
        return answer

    monkeypatch.setattr(services_accounts, "_would_leave_no_org_admin", slow_check)
    start = threading.Barrier(2)
    outcomes = []

    def deactivate(actor, target):
        try:
            start.wait(timeout=10)
            services_accounts.member_update(
                actor=actor, membership=target.membership, is_active=False
            )
            outcomes.append("deactivated")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deactivate, args=(first, second)),
        threading.Thread(target=deactivate, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["deactivated", "last_org_admin"]
    assert (
        Membership.objects.filter(
            organisation__code=ORG_A, role="org_admin", is_active=True
        ).count()
        == 1
    )
