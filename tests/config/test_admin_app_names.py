"""Every section of the admin index is named in Japanese (issue 16).

Third-party apps are renamed by the classes of config/apps.py; their labels
(the /admin/<label>/ URLs, tables, migrations) stay as they were.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_every_app_with_admin_models_has_a_japanese_name():
    labels = {model._meta.app_label for model in admin.site._registry}
    english = {
        label: str(apps.get_app_config(label).verbose_name)
        for label in labels
        if not JAPANESE.search(str(apps.get_app_config(label).verbose_name))
    }
    assert english == {}


def test_labels_are_unchanged():
    assert {
        "knox",
        "django_otp",
        "otp_totp",
        "otp_static",
        "django_celery_beat",
        "axes",
    } <= {config.label for config in apps.get_app_configs()}


@pytest.mark.django_db
def test_admin_index_shows_no_english_section(django_user_model):
    user = django_user_model.objects.create_superuser(
        "root", "root@example.invalid", "pw"
    )
    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    for english in ("Axes", "Periodic Tasks", "Knox", "Otp_Totp", "Otp_Static"):
        assert f">{english}<" not in html, english
    for japanese in ("定期タスク", "ログイン失敗とロック", "APIトークン"):
        assert japanese in html
