"""Fixtures of the single sign-on tests: a real OpenID Provider on loopback."""

from __future__ import annotations

import pytest

from support_network.models import IdentityProvider, IdentityProviderGroup
from support_network.services import sso
from tests.conftest import ORG_A
from tests.oidc.harness import CLIENT_ID, CLIENT_SECRET, OpenIdProvider

SECRET_ENV = "CRM_SSO_TOKYO_SECRET"
# The Tokyo window's group mapping at its IdP.
GROUPS = {
    "crm-window-staff": "window_staff",
    "crm-coordinators": "coordinator",
    "crm-managers": "manager",
    "crm-org-admins": "org_admin",
}


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """node oidc-provider (tests/oidc/provider.mjs), started once, stopped at the end."""
    provider = OpenIdProvider(
        tmp_path_factory.mktemp("oidc"),
        redirect_uris=["http://testserver/sso/callback/"],
        post_logout_redirect_uris=["http://testserver/login/"],
    )
    yield provider
    provider.stop()


@pytest.fixture
def idp(oidc_provider, network, monkeypatch):
    """The IdP with no accounts yet, configured as 東京都知財総合支援窓口's (ORG_A)."""
    oidc_provider.reset()
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)
    sso.provider_metadata_forget()
    config = IdentityProvider.objects.create(
        organisation=network[ORG_A],
        display_name="テスト IdP",
        issuer=oidc_provider.issuer,
        client_id=CLIENT_ID,
        client_secret_env=SECRET_ENV,
        scopes="openid email profile groups",
        email_domains="tokyo.example.jp",
        mfa_acr_values="urn:test:mfa",
    )
    for group, role in GROUPS.items():
        IdentityProviderGroup.objects.create(
            provider=config, group=group, organisation=network[ORG_A], role=role
        )
    oidc_provider.config = config
    yield oidc_provider
    oidc_provider.reset()


def sso_login(client, idp, username, *, organisation=ORG_A, email=""):
    """Click 「所属組織のアカウントでログイン」, sign in at the IdP, come back; return (answer, callback path)."""
    start = client.post(
        "/sso/start/", {"organisation": organisation if not email else "", "email": email}
    )
    assert start.status_code == 200, start.content.decode()[:500]
    back = idp.login(start.context["url"], username)
    assert back.startswith("http://testserver/sso/callback/"), back
    path = back.removeprefix("http://testserver")
    return client.get(path), path
