"""The second factor in a real browser: an org admin must enrol, then logs in with a code.

With CRM_MFA_REQUIRED_ROLES on (as in production), an org admin without a
device is sent to /account/mfa/ after the password; the page shows the QR
code (inline SVG made by the app: the page fixture fails on any external
or failed request, console or CSP error), the secret and 10 recovery
codes. The admin confirms with a code computed from the secret shown, is
let in, logs out, and logs in again: password, then the next 30-second
code (time moved on with time-machine; the live server runs in this
process), then once more with a recovery code.
"""

from __future__ import annotations

import base64
import datetime as dt
import re

import time_machine
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_assets_loaded
from tests.conftest import make_actor

PASSWORD = "pass-1234-word"


def code_for(secret: str) -> str:
    return f"{totp(base64.b32decode(secret), step=30, digits=6):06d}"


def password_step(page: Page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(re.compile(r"/login/"))


def test_org_admin_enrols_totp_and_logs_in_with_a_code(page: Page, shot, settings):
    settings.CRM_MFA_REQUIRED_ROLES = ["org_admin", "manager"]
    admin = make_actor("inpit-window-13", "org_admin", username="browser-mfa-admin")

    password_step(page, admin.user.username)
    page.wait_for_url(re.compile(r"/account/mfa/\?next="))
    assert_assets_loaded(page)
    expect(page.get_by_text("二要素認証が必須です")).to_be_visible()
    page.get_by_role("button", name="設定を始める").click()

    qr = page.locator(".qr svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box and box["width"] >= 100  # big enough to scan
    secret = page.locator("#mfa-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    recovery = page.locator(".recovery-codes code").all_inner_texts()
    assert len(recovery) == 10
    shot("enrol")

    page.get_by_label("認証アプリの6桁のコード").fill(code_for(secret))
    page.get_by_role("button", name="確認して有効にする").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_text("二要素認証を有効にしました")).to_be_visible()
    log_out(page)

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=31)):
        password_step(page, admin.user.username)
        page.wait_for_url(re.compile(r"/login/otp/$"))
        shot("code-step")
        page.get_by_label("確認コード").fill(code_for(secret))
        page.get_by_role("button", name="確認してログイン").click()
        page.wait_for_url(re.compile(r"/$"))
        expect(page.get_by_role("link", name="マイページ")).to_be_visible()
        log_out(page)

    password_step(page, admin.user.username)
    page.wait_for_url(re.compile(r"/login/otp/$"))
    page.get_by_label("確認コード").fill(recovery[0])
    page.get_by_role("button", name="確認してログイン").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(
        page.get_by_text("回復コードでログインしました（残り 9 個）")
    ).to_be_visible()
