"""Single sign-on in a real browser: Chromium clicks through the IdP's login page.

A member of 東京都知財総合支援窓口 picks the organisation under
「所属組織のアカウントでログイン」, is sent to the organisation's IdP (node
oidc-provider on loopback, tests/oidc/provider.mjs), signs in on its login
page, comes back logged in with the membership the groups claim gives,
and logs out of both the CRM and the IdP (RP-initiated logout).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from support_network.models import IdentityProvider, Membership
from support_network.services import sso
from tests.browser.conftest import assert_assets_loaded
from tests.conftest import ORG_A
from tests.oidc.harness import CLIENT_ID, CLIENT_SECRET, PASSWORD, OpenIdProvider


@pytest.fixture(scope="module")
def browser_idp(live_server, tmp_path_factory):
    provider = OpenIdProvider(
        tmp_path_factory.mktemp("oidc-browser"),
        redirect_uris=[f"{live_server.url}/sso/callback/"],
        post_logout_redirect_uris=[f"{live_server.url}/login/"],
    )
    yield provider
    provider.stop()


def test_member_signs_in_through_the_idp_and_out_again(
    page: Page, shot, browser_idp, network, monkeypatch
):
    monkeypatch.setenv("CRM_SSO_BROWSER_SECRET", CLIENT_SECRET)
    sso.provider_metadata_forget()
    config = IdentityProvider.objects.create(
        organisation=network[ORG_A],
        display_name="テスト IdP",
        issuer=browser_idp.issuer,
        client_id=CLIENT_ID,
        client_secret_env="CRM_SSO_BROWSER_SECRET",
        scopes="openid email profile groups",
    )
    config.groups.create(
        group="crm-window-staff", organisation=network[ORG_A], role="window_staff"
    )
    browser_idp.set_account(
        "browser-tanaka", groups=["crm-window-staff"], family_name="田中", given_name="一郎"
    )

    page.goto("/login/")
    assert_assets_loaded(page)
    expect(page.get_by_role("heading", name="所属組織のアカウントでログイン")).to_be_visible()
    page.get_by_label("所属組織", exact=True).select_option(ORG_A)
    shot("login-page")
    page.get_by_role("button", name="所属組織のアカウントでログイン").click()

    page.wait_for_url(re.compile(re.escape(browser_idp.issuer) + r"/interaction/"))
    expect(page.get_by_role("heading", name="Test IdP")).to_be_visible()
    shot("idp-login")
    page.get_by_label("Username").fill("browser-tanaka")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/$"))
    expect(page.get_by_role("link", name="マイページ")).to_be_visible()
    expect(page.get_by_text("田中 一郎")).to_be_visible()
    shot("home")
    membership = Membership.objects.get(user__email="browser-tanaka@tokyo.example.jp")
    assert (membership.organisation.code, membership.role) == (ORG_A, "window_staff")

    page.get_by_role("button", name="ログアウト").click()
    # The IdP asks whether to sign out there too (oidc-provider's own page).
    page.wait_for_url(re.compile(re.escape(browser_idp.issuer) + r"/session/end"))
    shot("idp-logout")
    page.get_by_role("button", name=re.compile("Yes", re.I)).click()
    page.wait_for_url(re.compile(r"/login/$"))
    expect(page.get_by_role("heading", name="ログイン", exact=True)).to_be_visible()
