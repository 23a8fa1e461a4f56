"""Web pages `/members/`: the org admin runs the organisation's accounts."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from support_network.models import Membership
from tests.conftest import ORG_A, make_actor

LINK = re.compile(r"http://[^\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _no_required_second_factor(settings):
    # The second factor has its own tests (the tokens/MFA helper's); here
    # the org admin's session is a plain login.
    settings.CRM_MFA_REQUIRED_ROLES = []


@pytest.fixture
def admin_a(network):
    return make_actor(ORG_A, "org_admin", username="admin-a")


@pytest.fixture
def admin_web(admin_a):
    client = Client()
    client.force_login(admin_a.user)
    return client


def page(client, path="/members/"):
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


def test_the_menu_shows_member_management_to_org_admins_only(admin_web, staff_a):
    staff = Client()
    staff.force_login(staff_a.user)

    assert "メンバー管理" in page(admin_web, "/")
    assert "メンバー管理" not in page(staff, "/")
    assert "パスワード変更" in page(staff, "/")


def test_members_page_lists_names_in_japanese_order(admin_web, staff_a):
    staff_a.user.last_name, staff_a.user.first_name = "佐藤", "花子"
    staff_a.user.save()

    html = page(admin_web)

    assert "佐藤 花子" in html
    assert staff_a.user.username in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "<script>" not in html  # CSP: scripts only from static files


def test_others_get_the_japanese_403_page(network, staff_a):
    client = Client()
    client.force_login(staff_a.user)

    response = client.get("/members/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "メンバーを管理できるのは組織管理者だけです。" in html
    assert "ホームへ戻る" in html


def test_invite_form_creates_the_member_and_mails_the_link(
    admin_web, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_web.post(
            "/members/invite/",
            {
                "name": "鈴木 一郎",
                "username": "suzuki",
                "email": "suzuki@example.jp",
                "role": "coordinator",
            },
        )

    assert response.status_code == 302
    assert response["Location"] == "/members/"
    membership = Membership.objects.get(user__username="suzuki")
    assert (membership.role, membership.organisation.code) == ("coordinator", ORG_A)
    assert mail.outbox[0].to == ["suzuki@example.jp"]
    assert LINK.search(mail.outbox[0].body)
    html = page(admin_web)
    assert "鈴木 一郎 さんを招待しました。" in html
    assert "パスワード未設定" in html


def test_invite_form_shows_a_taken_login_id_on_the_field(admin_web, staff_a):
    response = admin_web.post(
        "/members/invite/",
        {
            "name": "鈴木 一郎",
            "username": staff_a.user.username,
            "email": "suzuki@example.jp",
            "role": "coordinator",
        },
    )

    assert response.status_code == 200
    assert "は既に使われています" in response.content.decode()
    assert response.context["form"]["name"].value() == "鈴木 一郎"  # nothing lost
    assert mail.outbox == []


def test_role_change_from_the_page(admin_web, staff_a):
    response = admin_web.post(
        f"/members/{staff_a.membership.pk}/role/", {"role": "manager"}, follow=True
    )

    staff_a.membership.refresh_from_db()
    assert staff_a.membership.role == "manager"
    assert "役割を変更しました" in response.content.decode()


def test_deactivating_ends_the_members_open_session(admin_web, staff_a):
    staff = Client()
    staff.force_login(staff_a.user)
    assert staff.get("/companies/").status_code == 200

    admin_web.post(f"/members/{staff_a.membership.pk}/active/", {"is_active": "0"})

    staff_a.membership.refresh_from_db()
    assert staff_a.membership.is_active is False
    refused = staff.get("/companies/")
    assert refused.status_code == 403
    assert "どの組織にも所属していません" in refused.content.decode()
    assert "無効" in page(admin_web)

    admin_web.post(f"/members/{staff_a.membership.pk}/active/", {"is_active": "1"})

    assert staff.get("/companies/").status_code == 200


def test_the_last_org_admin_is_told_why_not(admin_web, admin_a):
    response = admin_web.post(
        f"/members/{admin_a.membership.pk}/active/", {"is_active": "0"}, follow=True
    )

    admin_a.membership.refresh_from_db()
    assert admin_a.membership.is_active is True
    assert "組織管理者がいなくなるため変更できません。" in response.content.decode()


def test_unlock_from_the_page(admin_web, staff_a):
    username = staff_a.user.username
    for _i in range(5):
        Client().post("/login/", {"username": username, "password": "wrong"})
    assert "ログインロック中" in page(admin_web)

    admin_web.post(f"/members/{staff_a.membership.pk}/unlock/")

    login = Client().post(
        "/login/", {"username": username, "password": "pass-1234-word"}
    )
    assert login.status_code == 302
    assert "ログインロック中" not in page(admin_web)


def test_a_new_invitation_link_for_a_member_without_password(
    admin_web, admin_a, django_capture_on_commit_callbacks
):
    user = get_user_model().objects.create(username="tanaka", email="t@example.jp")
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(
        user=user, organisation=admin_a.organisation, role="window_staff"
    )

    with django_capture_on_commit_callbacks(execute=True):
        admin_web.post(f"/members/{membership.pk}/resend/")

    assert [m.to for m in mail.outbox] == [["t@example.jp"]]


def test_another_organisations_member_is_a_404(admin_web, staff_b):
    response = admin_web.post(
        f"/members/{staff_b.membership.pk}/active/", {"is_active": "0"}
    )

    assert response.status_code == 404
    staff_b.membership.refresh_from_db()
    assert staff_b.membership.is_active is True


def test_the_admin_site_cannot_remove_the_last_org_admin(admin_a, django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.jp", "pw")
    client = Client()
    client.force_login(root)
    url = f"/admin/support_network/membership/{admin_a.membership.pk}/change/"
    form = {
        "user": admin_a.user.pk,
        "organisation": admin_a.organisation.pk,
        "role": "manager",
        "is_active": "on",
        "capacity": 10,
    }

    refused = client.post(url, form)
    second = make_actor(ORG_A, "org_admin", username="admin-a2")
    allowed = client.post(url, form)

    assert refused.status_code == 200
    assert "組織管理者がいなくなるため変更できません。" in refused.content.decode()
    assert allowed.status_code == 302
    admin_a.membership.refresh_from_db()
    assert admin_a.membership.role == "manager"
    assert second.membership.role == "org_admin"
