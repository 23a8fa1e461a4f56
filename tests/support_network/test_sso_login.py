"""Single sign-on against a real OpenID Provider (node oidc-provider on loopback).

The Tokyo window (ORG_A) signs its staff in through its IdP: the first
login creates the account and its membership from the groups claim, every
later login brings the memberships in line with the groups, the IdP's
second factor satisfies the MFA rule, logout continues to the IdP, and
members of an organisation that turned passwords off cannot use one.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from crm.models import AuditEvent
from support_network.models import Membership, SsoIdentity
from support_network.services import sso
from support_network.web.mfa import PENDING_KEY
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.support_network.conftest import sso_login

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_login_page_offers_the_organisations_with_an_idp(client, idp):
    page = client.get("/login/").content.decode()
    assert "所属組織のアカウントでログイン" in page
    assert 'value="inpit-window-13"' in page
    assert "テスト IdP" in page
    assert "ユーザー名とパスワードでログイン" in page


def test_first_login_creates_the_user_and_membership(client, idp):
    idp.set_account("tanaka", groups=["crm-window-staff"])
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 302 and answer["Location"] == "/"

    user = User.objects.get(email="tanaka@tokyo.example.jp")
    assert (user.last_name, user.first_name) == ("田中", "花子")
    assert not user.has_usable_password()
    membership = Membership.objects.get(user=user)
    assert (membership.organisation.code, membership.role, membership.is_active) == (
        ORG_A,
        "window_staff",
        True,
    )
    assert SsoIdentity.objects.get(user=user).subject == "tanaka"
    home = client.get("/")
    assert home.status_code == 200
    assert "田中 花子" in home.content.decode()

    events = AuditEvent.objects.filter(organisation__code=ORG_A)
    login = events.get(action=sso.SSO_LOGIN)
    assert login.object_id == str(user.pk) and login.data["created"] is True
    assert events.filter(action=sso.SSO_MEMBERSHIP_CREATED, object_id=str(membership.pk)).exists()
    assert events.filter(action="auth.login", object_id=str(user.pk)).exists()


def test_email_domain_picks_the_organisation(client, idp):
    idp.set_account("sato", groups=["crm-window-staff"])
    answer, _path = sso_login(client, idp, "sato", email="sato@Tokyo.Example.jp")
    assert answer.status_code == 302
    assert Membership.objects.filter(
        user__email="sato@tokyo.example.jp", organisation__code=ORG_A
    ).exists()


def test_group_change_changes_the_role_and_removal_ends_the_membership(client, idp):
    idp.set_account("suzuki", groups=["crm-window-staff"])
    sso_login(client, idp, "suzuki")
    user = User.objects.get(email="suzuki@tokyo.example.jp")
    client.post("/logout/")

    idp.set_account("suzuki", groups=["crm-window-staff", "crm-coordinators"])
    answer, _path = sso_login(client, idp, "suzuki")
    assert answer.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.role == "coordinator"  # the higher of the two roles
    change = AuditEvent.objects.get(
        action=sso.SSO_MEMBERSHIP_CHANGED, object_id=str(membership.pk)
    )
    assert change.data["changes"] == {"role": ["window_staff", "coordinator"]}
    assert User.objects.filter(email="suzuki@tokyo.example.jp").count() == 1
    client.post("/logout/")

    idp.set_account("suzuki", groups=["unrelated-group"])
    answer, _path = sso_login(client, idp, "suzuki")
    assert answer.status_code == 403
    assert "対応するグループがありません" in answer.content.decode()
    membership.refresh_from_db()
    assert membership.is_active is False
    assert AuditEvent.objects.filter(
        action=sso.SSO_MEMBERSHIP_ENDED, object_id=str(membership.pk)
    ).exists()
    refused = AuditEvent.objects.get(action=sso.SSO_LOGIN_REFUSED)
    assert refused.data["reason"] == sso.NO_MAPPED_GROUP
    assert refused.organisation.code == ORG_A
    assert client.get("/").status_code == 302  # not logged in


def test_a_user_the_idp_no_longer_knows_cannot_log_in(client, idp):
    idp.set_account("gone", groups=["crm-window-staff"])
    sso_login(client, idp, "gone")
    client.post("/logout/")
    idp.remove_account("gone")
    start = client.post("/sso/start/", {"organisation": ORG_A})
    with pytest.raises(AssertionError, match="the IdP refused the login"):
        idp.login(start.context["url"], "gone")


def test_memberships_of_other_organisations_are_left_alone(client, idp, network):
    idp.set_account("kato", groups=["crm-window-staff"])
    sso_login(client, idp, "kato")
    user = User.objects.get(email="kato@tokyo.example.jp")
    Membership.objects.create(user=user, organisation=network[ORG_B], role="coordinator")
    client.post("/logout/")
    idp.set_account("kato", groups=["crm-managers"])
    sso_login(client, idp, "kato")
    roles = dict(
        Membership.objects.filter(user=user).values_list("organisation__code", "role")
    )
    assert roles == {ORG_A: "manager", ORG_B: "coordinator"}


def test_delegated_organisation_gets_memberships(client, idp, network):
    idp.config.delegated_organisations.add(network[ORG_B])
    idp.config.groups.create(
        group="osaka-staff", organisation=network[ORG_B], role="window_staff"
    )
    idp.set_account("ito", groups=["crm-window-staff", "osaka-staff"])
    sso_login(client, idp, "ito")
    assert set(
        Membership.objects.filter(user__email="ito@tokyo.example.jp").values_list(
            "organisation__code", "role"
        )
    ) == {(ORG_A, "window_staff"), (ORG_B, "window_staff")}


# --- second factor ------------------------------------------------------------


def test_idp_asserted_mfa_satisfies_the_rule_for_managers(client, idp, settings):
    settings.CRM_MFA_REQUIRED_ROLES = ["org_admin", "manager"]
    idp.set_account("mgr", groups=["crm-managers"], amr=["pwd", "mfa"])
    answer, _path = sso_login(client, idp, "mgr")
    assert answer["Location"] == "/"
    assert client.get("/").status_code == 200  # no enrolment asked
    login = AuditEvent.objects.get(action=sso.SSO_LOGIN)
    assert login.data["mfa"] is True


def test_configured_acr_counts_as_mfa(client, idp, settings):
    settings.CRM_MFA_REQUIRED_ROLES = ["org_admin", "manager"]
    idp.set_account("adm", groups=["crm-org-admins"], amr=["pwd"], acr="urn:test:mfa")
    sso_login(client, idp, "adm")
    assert client.get("/").status_code == 200


def test_without_idp_mfa_a_manager_must_enrol_totp(client, idp, settings):
    settings.CRM_MFA_REQUIRED_ROLES = ["org_admin", "manager"]
    idp.set_account("mgr2", groups=["crm-managers"], amr=["pwd"])
    sso_login(client, idp, "mgr2")
    answer = client.get("/")
    assert answer.status_code == 302 and answer["Location"].startswith("/account/mfa/")


def test_without_idp_mfa_a_user_with_totp_gives_the_code(client, idp):
    from django_otp.oath import totp

    from support_network.mfa import totp_device_install

    idp.set_account("mgr3", groups=["crm-managers"], amr=["pwd"])
    sso_login(client, idp, "mgr3")
    user = User.objects.get(email="mgr3@tokyo.example.jp")
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    device = totp_device_install(user=user, secret=secret)
    client.post("/logout/")

    answer, _path = sso_login(client, idp, "mgr3")
    assert answer["Location"] == "/login/otp/"
    assert client.session[PENDING_KEY]["user"] == user.pk
    assert client.get("/").status_code == 302  # not logged in yet
    code = f"{totp(device.bin_key, step=30, digits=6):06d}"
    done = client.post("/login/otp/", {"code": code})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200


# --- logout, passwords, tokens ---------------------------------------------


def test_logout_ends_the_session_and_continues_to_the_idp(client, idp):
    idp.set_account("yamada", groups=["crm-window-staff"])
    sso_login(client, idp, "yamada")
    answer = client.post("/logout/")
    assert answer.status_code == 200
    url = answer.context["url"]
    assert url.startswith(idp.issuer + "/session/end?")
    assert "id_token_hint=" in url and "post_logout_redirect_uri=" in url
    assert client.get("/").status_code == 302
    # The IdP's own end-session page answers the request (RP-initiated logout).
    import requests

    assert requests.get(url, timeout=10).status_code == 200


def test_password_login_refused_when_the_organisation_turned_passwords_off(
    client, idp, api
):
    idp.config.passwords_disabled = True
    idp.config.save()
    staff = make_actor(ORG_A, "window_staff", username="pw-staff")
    answer = client.post(
        "/login/", {"username": "pw-staff", "password": "pass-1234-word"}
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "パスワードでのログインが無効です" in page
    assert "所属組織のアカウントでログイン" in page
    assert "_auth_user_id" not in client.session

    token = api().post(
        "/api/v1/auth/token/", {"username": "pw-staff", "password": "pass-1234-word"}
    )
    assert token.status_code == 400
    assert "api-token" in str(token.json())
    # Another organisation's member still logs in with a password.
    make_actor(ORG_B, "window_staff", username="osaka-pw")
    other = client.post("/login/", {"username": "osaka-pw", "password": "pass-1234-word"})
    assert other.status_code == 302
    assert staff.user.pk


def test_sso_user_gets_an_api_token_from_the_web_session(client, idp, api):
    idp.set_account("token-user", groups=["crm-window-staff"])
    sso_login(client, idp, "token-user")
    page = client.get("/account/api-token/")
    assert page.status_code == 200
    issued = client.post("/account/api-token/")
    token = issued.context["token"]
    assert token
    answer = api().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token}")
    assert answer.status_code == 200


def test_next_page_is_kept_through_the_idp_and_foreign_ones_are_dropped(client, idp):
    idp.set_account("next-user", groups=["crm-window-staff"])
    for target, expected in (("/cases/", "/cases/"), ("https://evil.example/", "/")):
        start = client.post("/sso/start/", {"organisation": ORG_A, "next": target})
        back = idp.login(start.context["url"], "next-user")
        answer = client.get(back.removeprefix("http://testserver"))
        assert answer["Location"] == expected
        client.post("/logout/")


def test_portal_link_starts_the_login_with_a_redirect(client, idp):
    idp.set_account("portal-user", groups=["crm-window-staff"])
    answer = client.get("/sso/start/", {"organisation": ORG_A})
    assert answer.status_code == 302
    url = answer["Location"]
    assert url.startswith(idp.issuer + "/auth?")
    assert "code_challenge_method=S256" in url and "nonce=" in url and "state=" in url
    back = idp.login(url, "portal-user")
    assert client.get(back.removeprefix("http://testserver"))["Location"] == "/"
