"""The superuser configures an organisation's IdP in the admin (Japanese, no secret stored)."""

from __future__ import annotations

import pytest

from support_network.models import IdentityProvider
from tests.conftest import ORG_A, ORG_B, make_actor

pytestmark = pytest.mark.django_db

ADD = "/admin/support_network/identityprovider/add/"


def _form(network, *, group_org):
    return {
        "organisation": network[ORG_A].pk,
        "display_name": "Microsoft Entra ID",
        "is_enabled": "on",
        "issuer": "https://login.microsoftonline.com/tenant/v2.0",
        "client_id": "00000000-1111-2222-3333-444444444444",
        "client_secret_env": "CRM_SSO_TOKYO_SECRET",
        "scopes": "openid email profile",
        "groups_claim": "roles",
        "email_domains": "tokyo.example.jp",
        "mfa_acr_values": "",
        "groups-TOTAL_FORMS": "1",
        "groups-INITIAL_FORMS": "0",
        "groups-MIN_NUM_FORMS": "0",
        "groups-MAX_NUM_FORMS": "1000",
        "groups-0-group": "crm-window-staff",
        "groups-0-organisation": network[group_org].pk,
        "groups-0-role": "window_staff",
    }


def test_superuser_adds_an_idp_with_its_group_mapping(client, superuser_actor, network):
    client.force_login(superuser_actor.user)
    page = client.get(ADD).content.decode()
    for label in ("発行者 (issuer) の URL", "クライアントシークレットの環境変数名", "グループのクレーム名",
                  "パスワードでのログインを禁止", "委任された組織", "グループと役割の対応"):
        assert label in page
    answer = client.post(ADD, _form(network, group_org=ORG_A))
    assert answer.status_code == 302, answer.content.decode()[:2000]
    provider = IdentityProvider.objects.get(organisation=network[ORG_A])
    assert provider.client_secret_env == "CRM_SSO_TOKYO_SECRET"
    assert list(provider.groups.values_list("group", "role")) == [
        ("crm-window-staff", "window_staff")
    ]


def test_mapping_to_another_organisation_is_refused_in_japanese(
    client, superuser_actor, network
):
    client.force_login(superuser_actor.user)
    answer = client.post(ADD, _form(network, group_org=ORG_B))
    assert answer.status_code == 200
    assert "委任された組織" in answer.content.decode()
    assert not IdentityProvider.objects.exists()


def test_a_secret_in_place_of_the_variable_name_is_refused(client, superuser_actor, network):
    client.force_login(superuser_actor.user)
    form = _form(network, group_org=ORG_A)
    form["client_secret_env"] = "s3cr3t-value~abc"
    answer = client.post(ADD, form)
    assert answer.status_code == 200
    assert "環境変数名を入れてください" in answer.content.decode()


def test_org_admins_do_not_see_it(client, network):
    admin = make_actor(ORG_A, "org_admin", username="sso-admin-staff")
    admin.user.is_staff = True
    admin.user.save()
    client.force_login(admin.user)
    assert client.get(ADD).status_code == 403


def test_delegation_and_its_mapping_are_saved_together(client, superuser_actor, network):
    client.force_login(superuser_actor.user)
    form = _form(network, group_org=ORG_B)
    form["delegated_organisations"] = [network[ORG_B].pk]
    answer = client.post(ADD, form)
    assert answer.status_code == 302
    provider = IdentityProvider.objects.get(organisation=network[ORG_A])
    assert provider.groups.get().organisation == network[ORG_B]
