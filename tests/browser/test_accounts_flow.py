"""Accounts in a real browser: an org admin invites, the member joins, the admin ends it.

The org admin invites a manager from 「メンバー管理」; the member opens the
set-password link of the invitation e-mail (Django's locmem outbox: the
live server runs in this process) in a browser of their own, sets a
password, must enrol TOTP (managers must, CRM_MFA_REQUIRED_ROLES), logs
out and logs in again with password and the next 30-second code. The admin
then deactivates the membership, and the member's open session stops
working on its next page.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

import time_machine
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect

from support_network.models import Membership
from tests.browser.conftest import (
    SCREENSHOTS,
    TIMEOUT_MS,
    VIEWPORT,
    assert_assets_loaded,
)
from tests.conftest import ORG_A, make_actor

ADMIN_PASSWORD = "pass-1234-word"
MEMBER_PASSWORD = "Hoshi-no-yoru-2026"
LINK = re.compile(r"http://[^\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


def code_for(secret: str) -> str:
    return f"{totp(base64.b32decode(secret), step=30, digits=6):06d}"


def password_step(page: Page, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()


def member_tab(chromium: Browser, base_url: str, problems: list[str]) -> Page:
    """A browser of the member's own (own cookies), watched like the page fixture."""
    context = chromium.new_context(
        viewport=VIEWPORT, locale="ja-JP", timezone_id="Asia/Tokyo", base_url=base_url
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console error: {msg.text}")
            if msg.type == "error"
            else None
        ),
    )
    tab.on(
        "response",
        lambda r: (
            problems.append(f"HTTP {r.status} for {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return tab


def test_admin_invites_member_joins_with_totp_and_deactivation_ends_the_session(
    page: Page, shot, settings, chromium, live_server
):
    settings.CRM_MFA_REQUIRED_ROLES = ["manager"]  # the admin logs in without
    admin = make_actor(ORG_A, "org_admin", username="browser-admin")
    admin.user.last_name, admin.user.first_name = "管理", "花子"
    admin.user.save()

    # The org admin invites a manager.
    password_step(page, admin.user.username, ADMIN_PASSWORD)
    page.wait_for_url(re.compile(r"/$"))
    page.get_by_role("link", name="メンバー管理").click()
    page.wait_for_url(re.compile(r"/members/$"))
    assert_assets_loaded(page)
    page.get_by_role("link", name="＋ メンバーを招待").click()
    page.locator("#id_name").fill("山田 太郎")
    page.locator("#id_username").fill("yamada-browser")
    page.locator("#id_email").fill("yamada@example.jp")
    page.locator("#id_role").select_option("manager")
    shot("invite")
    page.get_by_role("button", name="招待メールを送る").click()
    page.wait_for_url(re.compile(r"/members/$"))
    expect(page.get_by_text("山田 太郎 さんを招待しました。")).to_be_visible()
    row = page.locator('tr[data-username="yamada-browser"]')
    expect(row.get_by_text("パスワード未設定")).to_be_visible()

    assert [m.to for m in mail.outbox] == [["yamada@example.jp"]]
    path = LINK.search(mail.outbox[0].body).group(1)

    # The member sets a password from the e-mail, in their own browser.
    problems: list[str] = []
    member = member_tab(chromium, live_server.url, problems)
    member.goto(path)
    expect(member.get_by_role("heading", name="パスワードの設定")).to_be_visible()
    member.locator("#id_new_password1").fill(MEMBER_PASSWORD)
    member.locator("#id_new_password2").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="パスワードを設定する").click()
    member.wait_for_url(re.compile(r"/password-reset/complete/$"))
    member.get_by_role("link", name="ログインする").click()

    # A manager must enrol TOTP after the password.
    password_step(member, "yamada-browser", MEMBER_PASSWORD)
    member.wait_for_url(re.compile(r"/account/mfa/\?next="))
    member.get_by_role("button", name="設定を始める").click()
    secret = member.locator("#mfa-secret").inner_text().strip()
    member.get_by_label("認証アプリの6桁のコード").fill(code_for(secret))
    member.get_by_role("button", name="確認して有効にする").click()
    member.wait_for_url(re.compile(r"/$"))
    expect(member.locator(".who .user")).to_have_text("山田 太郎")  # 姓 名
    member.get_by_role("button", name="ログアウト").click()
    member.wait_for_url(re.compile(r"/login/"))

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        # … and logs in with it.
        password_step(member, "yamada-browser", MEMBER_PASSWORD)
        member.wait_for_url(re.compile(r"/login/otp/$"))
        member.get_by_label("確認コード").fill(code_for(secret))
        member.get_by_role("button", name="確認してログイン").click()
        member.wait_for_url(re.compile(r"/$"))
        member.goto("/companies/")
        expect(member.get_by_role("heading", name="企業等の検索")).to_be_visible()

        # The admin deactivates the member; their open session stops working.
        page.goto("/members/")
        row.get_by_role("button", name="無効にする").click()
        page.wait_for_url(re.compile(r"/members/$"))
        expect(page.get_by_text("山田 太郎 さんを無効にしました。")).to_be_visible()
        shot("deactivated")
        assert (
            Membership.objects.get(user__username="yamada-browser").is_active is False
        )

        member.goto("/companies/")
        expect(member.get_by_text("どの組織にも所属していません")).to_be_visible()
        expect(member.get_by_role("link", name="ホームへ戻る")).to_be_visible()
        member.get_by_role("link", name="ホームへ戻る").click()
        expect(
            member.get_by_role("heading", name="所属組織がありません")
        ).to_be_visible()
        member.screenshot(
            path=str(SCREENSHOTS / "test_accounts_flow-member-ended.png"),
            full_page=True,
        )
    member.context.close()

    # The only 4xx the member saw is the refused page after the deactivation
    # (and Chromium's console line about that same document).
    assert sorted(problems) == [
        "HTTP 403 for " + live_server.url + "/companies/",
        "console error: Failed to load resource: the server responded with a "
        "status of 403 (Forbidden)",
    ]
