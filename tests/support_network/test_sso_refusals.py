"""Refused single sign-ons: each a Japanese page, an audit event with its reason, nothing created.

Every token here comes from the real provider (node oidc-provider); the
forged answers are made by the test proxy in front of its token endpoint
(tests/oidc/harness.py): a token the provider issued to another client, or
a real token with a changed claim whose signature therefore fails.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import AuditEvent
from support_network.models import (
    IdentityProvider,
    IdentityProviderGroup,
    Membership,
    SsoIdentity,
)
from support_network.services import sso
from tests.conftest import ORG_A, ORG_B
from tests.oidc.harness import CLIENT_ID, CLIENT_SECRET
from tests.support_network.conftest import sso_login

pytestmark = pytest.mark.django_db

User = get_user_model()


def assert_nothing_created(users_before: int) -> None:
    assert User.objects.count() == users_before
    assert not SsoIdentity.objects.exists()
    assert not Membership.objects.filter(user__email__endswith="@tokyo.example.jp").exists()
    assert not AuditEvent.objects.filter(action=sso.SSO_LOGIN).exists()


def refused_reason() -> dict:
    return AuditEvent.objects.get(action=sso.SSO_LOGIN_REFUSED).data


def test_token_for_another_client_is_refused(client, idp):
    idp.set_account("tanaka", groups=["crm-window-staff"])
    other = idp.id_token_for_other_client("tanaka")

    def swap(answer):
        return {**answer, "id_token": other}

    idp.proxy.tamper = swap
    before = User.objects.count()
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert "ID トークンを確認できませんでした" in answer.content.decode()
    assert_nothing_created(before)
    data = refused_reason()
    assert (data["reason"], data["why"]) == (sso.BAD_TOKEN, "audience")
    assert "_auth_user_id" not in client.session


def test_id_token_of_another_login_is_refused_by_its_nonce(client, idp):
    # A real token for our own client, from an earlier login (its own nonce):
    # a captured ID token cannot be played into another login.
    idp.set_account("tanaka", groups=["crm-window-staff"])
    captured = idp.id_token_for("tanaka", CLIENT_ID, CLIENT_SECRET)
    idp.proxy.tamper = lambda answer: {**answer, "id_token": captured}
    before = User.objects.count()
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert_nothing_created(before)
    assert "Nonce" in refused_reason()["why"]


def test_deactivated_user_is_refused(client, idp):
    idp.set_account("tanaka", groups=["crm-window-staff"])
    sso_login(client, idp, "tanaka")
    client.post("/logout/")
    User.objects.filter(email="tanaka@tokyo.example.jp").update(is_active=False)
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert "このユーザーは無効です" in answer.content.decode()
    assert refused_reason()["reason"] == sso.USER_INACTIVE


def _forge(answer, **claims):
    header, payload, signature = answer["id_token"].split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return {**answer, "id_token": f"{header}.{forged}.{signature}"}


def test_changed_claim_breaks_the_signature_and_is_refused(client, idp):
    idp.set_account("tanaka", groups=["crm-window-staff"])
    idp.proxy.tamper = lambda answer: _forge(answer, groups=["crm-org-admins"])
    before = User.objects.count()
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert "署名・宛先・有効期限のいずれかが不正です" in answer.content.decode()
    assert_nothing_created(before)
    assert refused_reason()["why"] == "signature"


def test_expired_id_token_is_refused_and_small_skew_is_allowed(client, idp):
    idp.set_account("tanaka", groups=["crm-window-staff"])
    start = client.post("/sso/start/", {"organisation": ORG_A})
    back = idp.login(start.context["url"], "tanaka")
    before = User.objects.count()
    # The provider's ID tokens live 3600 s; our clock is 100 s past that
    # (more than the 60 s allowed skew) when the answer arrives.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3700)):
        answer = client.get(back.removeprefix("http://testserver"))
    assert answer.status_code == 403
    assert "有効期限が切れています" in answer.content.decode()
    assert_nothing_created(before)
    assert refused_reason()["why"] == "expired"

    # 30 s past exp is within the allowed clock skew.
    start = client.post("/sso/start/", {"organisation": ORG_A})
    back = idp.login(start.context["url"], "tanaka")
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3630)):
        answer = client.get(back.removeprefix("http://testserver"))
    assert answer.status_code == 302


def test_replayed_state_is_refused(client, idp, django_user_model):
    from django.test import Client

    idp.set_account("tanaka", groups=["crm-window-staff"])
    answer, path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 302
    logins = AuditEvent.objects.filter(action=sso.SSO_LOGIN).count()
    users = User.objects.count()

    again = client.get(path)  # the same callback URL, same browser
    assert again.status_code == 403
    assert "すでに使われています" in again.content.decode()

    stranger = Client()  # someone else's browser with the captured URL
    theirs = stranger.get(path)
    assert theirs.status_code == 403
    assert "_auth_user_id" not in stranger.session
    assert AuditEvent.objects.filter(action=sso.SSO_LOGIN).count() == logins
    assert User.objects.count() == users
    reasons = AuditEvent.objects.filter(action=sso.SSO_LOGIN_REFUSED).values_list(
        "data__reason", flat=True
    )
    assert list(reasons) == [sso.BAD_STATE, sso.BAD_STATE]


def test_group_mapped_to_a_non_delegated_organisation_is_refused(client, idp, network):
    # A mapping line left over after a delegation ended (the admin refuses
    # to make one: see the next test).
    IdentityProviderGroup.objects.create(
        provider=idp.config, group="osaka-staff", organisation=network[ORG_B], role="org_admin"
    )
    idp.set_account("tanaka", groups=["crm-window-staff", "osaka-staff"])
    before = User.objects.count()
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "委任されていない組織" in page and network[ORG_B].name in page
    assert_nothing_created(before)
    assert not Membership.objects.filter(organisation__code=ORG_B, role="org_admin").exists()
    assert refused_reason()["reason"] == sso.FOREIGN_ORGANISATION


def test_admin_cannot_map_a_group_to_a_non_delegated_organisation(idp, network):
    line = IdentityProviderGroup(
        provider=idp.config, group="x", organisation=network[ORG_B], role="window_staff"
    )
    with pytest.raises(ValidationError) as refused:
        line.full_clean()
    assert "委任された組織" in str(refused.value)
    idp.config.delegated_organisations.add(network[ORG_B])
    line.full_clean()  # once delegated, it may


def test_another_organisations_group_gives_nothing(client, idp, network, monkeypatch):
    # 大阪 (ORG_B) has its own IdP and maps "osaka-staff"; Tokyo's IdP
    # asserting that group grants nothing anywhere.
    osaka = IdentityProvider.objects.create(
        organisation=network[ORG_B],
        issuer="https://idp.osaka.example.jp",
        client_id="crm",
        client_secret_env="CRM_SSO_OSAKA_SECRET",
    )
    osaka.groups.create(group="osaka-staff", organisation=network[ORG_B], role="window_staff")
    idp.set_account("tanaka", groups=["osaka-staff"])
    before = User.objects.count()
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert "対応するグループがありません" in answer.content.decode()
    assert_nothing_created(before)
    assert refused_reason()["reason"] == sso.NO_MAPPED_GROUP


def test_unknown_organisation_or_domain_is_refused(client, idp):
    answer = client.post("/sso/start/", {"organisation": "no-such-org"})
    assert answer.status_code == 400
    assert "シングルサインオンは設定されていません" in answer.content.decode()
    answer = client.post("/sso/start/", {"email": "someone@elsewhere.example"})
    assert answer.status_code == 400
    reasons = list(
        AuditEvent.objects.filter(action=sso.SSO_LOGIN_REFUSED).values_list(
            "data__reason", "data__domain"
        )
    )
    assert sorted(reasons) == [
        (sso.UNKNOWN_ORGANISATION, ""),
        (sso.UNKNOWN_ORGANISATION, "elsewhere.example"),
    ]


def test_disabled_idp_is_not_offered(client, idp):
    idp.config.is_enabled = False
    idp.config.save()
    assert "所属組織のアカウントでログイン" not in client.get("/login/").content.decode()
    assert client.post("/sso/start/", {"organisation": ORG_A}).status_code == 400


def test_missing_client_secret_is_refused_in_japanese(client, idp, monkeypatch):
    monkeypatch.delenv("CRM_SSO_TOKYO_SECRET")
    idp.set_account("tanaka", groups=["crm-window-staff"])
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 403
    assert "クライアントシークレットがありません" in answer.content.decode()


def test_secret_is_read_from_a_file(client, idp, monkeypatch, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(CLIENT_SECRET + "\n")
    monkeypatch.delenv("CRM_SSO_TOKYO_SECRET")
    monkeypatch.setenv("CRM_SSO_TOKYO_SECRET_FILE", str(secret_file))
    idp.set_account("tanaka", groups=["crm-window-staff"])
    answer, _path = sso_login(client, idp, "tanaka")
    assert answer.status_code == 302
