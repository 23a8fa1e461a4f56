"""The demo logins: who they are, their shared password and TOTP secret.

README "run" and "Tokens and second factor" list them; the generator
creates them and tests log in as them.
"""

from __future__ import annotations

from dataclasses import dataclass

from support_network.choices import Role

DEMO_PASSWORD = "demo-pass-2026"
# The demo managers and org admins (who must have a second factor) share
# this TOTP secret (README "Tokens and second factor"): add it to an
# authenticator app, or print the current code with
# `python -c "import base64; from django_otp.oath import totp; print('%06d' % totp(base64.b32decode('<secret>')))"`.
DEMO_TOTP_SECRET = "CHIZAIDEMOTOTPSECRETFORDEMOUSERS"


@dataclass(frozen=True)
class DemoUser:
    """A demo login: one user with one membership."""

    username: str
    organisation_code: str
    role: str
    display_name: str
    is_staff: bool = False
    is_superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("staff-tokyo", "inpit-window-13", Role.WINDOW_STAFF, "東 京子"),
    DemoUser("staff-osaka", "yorozu-27", Role.WINDOW_STAFF, "浪花 大輔"),
    DemoUser("coord-kanto", "bureau-kanto", Role.COORDINATOR, "関 東一"),
    DemoUser("coord-jpaa-kanto", "jpaa-kanto", Role.COORDINATOR, "弁理 士郎"),
    DemoUser("manager-inpit", "inpit", Role.MANAGER, "工藤 所子"),
    DemoUser("admin-tokyo", "inpit-window-13", Role.ORG_ADMIN, "管理 太郎"),
    DemoUser("expert-secret", "inpit-expert-trade-secret", Role.EXPERT, "秘密 守"),
    # user_create_or_update always records a membership; INPIT HQ is the
    # neutral choice for the superuser, who sees everything anyway.
    DemoUser(
        "admin",
        "inpit",
        Role.ORG_ADMIN,
        "システム 管理者",
        is_staff=True,
        is_superuser=True,
    ),
)
