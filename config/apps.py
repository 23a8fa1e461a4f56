"""Japanese names for the admin sections of third-party apps.

The admin index groups models under their app's verbose_name; the packages
below name themselves in English (AXES, PERIODIC TASKS, KNOX, OTP_TOTP…).
Each class only renames: the label (the URL part /admin/<label>/, the
tables, the migrations) and everything the package's own AppConfig does in
ready() stay the same. INSTALLED_APPS lists these classes instead of the
packages' dotted names.
"""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django_celery_beat.apps import BeatConfig
from django_otp.plugins.otp_static.apps import DefaultConfig as OtpStaticDefault
from django_otp.plugins.otp_totp.apps import DefaultConfig as OtpTotpDefault


class KnoxConfig(AppConfig):
    name = "knox"
    verbose_name = _("APIトークン")


class OtpConfig(AppConfig):
    name = "django_otp"
    verbose_name = _("二要素認証")


class OtpTotpConfig(OtpTotpDefault):
    verbose_name = _("二要素認証（認証アプリ）")


class OtpStaticConfig(OtpStaticDefault):
    verbose_name = _("二要素認証（リカバリーコード）")


class CeleryBeatConfig(BeatConfig):
    verbose_name = _("定期タスク")


class AxesConfig(AxesAppConfig):
    verbose_name = _("ログイン失敗とロック")
