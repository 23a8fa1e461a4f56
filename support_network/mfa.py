"""The second factor: TOTP (RFC 6238) with recovery codes, on django-otp.

A user enrols by asking for a pending TOTP device (`totp_device_start`:
30 s, 6 digits, SHA-1, the secret shown once with 10 recovery codes) and
confirming it with a code from the authenticator app
(`totp_device_confirm`); from then on the web login asks for a code after
the password, and so does `POST auth/token/` (`otp`). A recovery code (a
django-otp static token) works once in place of a code. A new enrolment
replaces the old device and codes only when it is confirmed.

Users whose role in any active membership is in CRM_MFA_REQUIRED_ROLES
(org_admin and manager by default) must enrol before using the site
(`mfa_enrolment_required`).
"""

from __future__ import annotations

from base64 import b32decode, b32encode

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import devices_for_user, match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from support_network.errors import ValidationFailed

RECOVERY_CODE_COUNT = 10
# Names of the devices this module makes: one TOTP device (an app) and one
# static device (the recovery codes) per user once confirmed.
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"


def totp_secret(device: TOTPDevice) -> str:
    """Return the device's secret in base32, as authenticator apps take it."""
    return b32encode(device.bin_key).decode("ascii")


def mfa_required_roles() -> set[str]:
    """Return the roles that must have a second factor (CRM_MFA_REQUIRED_ROLES)."""
    return set(getattr(settings, "CRM_MFA_REQUIRED_ROLES", ()))


def user_has_second_factor(user) -> bool:
    """Return whether user has a confirmed TOTP device."""
    if not getattr(user, "is_authenticated", False):
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mfa_enrolment_required(user, *, has_device: bool | None = None) -> bool:
    """Return whether user must enrol a second factor before using the site.

    True for a user without a confirmed device whose role in any active
    membership is one of CRM_MFA_REQUIRED_ROLES. has_device spares the
    query when the caller already knows.
    """
    roles = mfa_required_roles()
    if not roles:
        return False
    if has_device is None:
        has_device = user_has_second_factor(user)
    if has_device:
        return False
    from support_network.selectors import memberships_of

    return memberships_of(user).filter(role__in=roles).exists()


@transaction.atomic
def totp_device_start(*, user) -> tuple[TOTPDevice, list[str]]:
    """Create a pending (unconfirmed) TOTP device and 10 recovery codes for user.

    Returns the device and the codes in clear (shown once). Earlier pending
    enrolments are dropped; a confirmed device stays until this one is
    confirmed.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user, confirmed=False).delete()
    device = TOTPDevice.objects.create(
        user=user, name=TOTP_NAME, confirmed=False, step=30, digits=6, t0=0
    )
    recovery = StaticDevice.objects.create(
        user=user, name=RECOVERY_NAME, confirmed=False
    )
    codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        StaticToken(device=recovery, token=code) for code in codes
    )
    return device, codes


def totp_device_pending(user) -> TOTPDevice | None:
    """Return user's pending TOTP device, if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


def totp_device_confirm(*, user, code: str) -> TOTPDevice:
    """Confirm user's pending device with a code from the app; it is active from now.

    The previous device and recovery codes, if any, are replaced. A wrong
    code is a 400 on `code`.
    """
    code = (code or "").strip()
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise ValidationFailed(
                _("登録中の認証アプリがありません。最初からやり直してください。"),
                field="code",
            )
        # verify_token records a failure (throttling) on the device itself:
        # that write must stay even though the confirmation is refused.
        verified = code.isascii() and code.isdigit() and device.verify_token(code)
    if not verified:
        raise ValidationFailed(
            _(
                "確認コードが正しくありません。認証アプリに表示されている"
                "6桁の数字を入力してください。"
            ),
            field="code",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        StaticDevice.objects.filter(user=user, confirmed=True).delete()
        StaticDevice.objects.filter(user=user, confirmed=False).update(confirmed=True)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
    return device


def user_otp_verify(*, user, code: str | None):
    """Return the confirmed device that accepts code (a TOTP code or a recovery code).

    A recovery code is used up. None when code is empty or wrong (django-otp
    also throttles repeated failures per device).
    """
    code = "".join((code or "").split()).lower()
    if not (code.isascii() and code.isalnum()) or len(code) > 16:
        return None
    if not user_has_device(user, confirmed=True):
        return None
    return match_token(user, code)


@transaction.atomic
def totp_device_install(*, user, secret: str) -> TOTPDevice:
    """Give user a confirmed TOTP device with a known base32 secret (demo data only).

    Replaces the user's devices; no recovery codes.
    """
    key = b32decode(secret.upper()).hex()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(
        user=user, name=TOTP_NAME, key=key, confirmed=True, step=30, digits=6, t0=0
    )


@transaction.atomic
def user_second_factor_remove(*, user) -> None:
    """Remove every second-factor device of user (`manage.py mfa_reset`: a lost phone)."""
    for device in devices_for_user(user, confirmed=None):
        device.delete()
