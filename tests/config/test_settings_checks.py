"""The deploy checks refuse an unsafe production configuration, and pass a safe one."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.core.checks import run_checks
from django.test import override_settings

from config.settings import INSECURE_SECRET_KEY


def check_ids():
    return {e.id for e in run_checks(include_deployment_checks=True)}


@override_settings(
    DEBUG=False, SECRET_KEY=INSECURE_SECRET_KEY, CELERY_BROKER_URL="filesystem://"
)
def test_default_secret_and_filesystem_broker_are_refused_without_debug():
    assert {"support_network.E001", "support_network.E002"} <= check_ids()


@override_settings(
    DEBUG=False, SECRET_KEY="x" * 60, CELERY_BROKER_URL="redis://127.0.0.1:6379/0"
)
def test_a_real_secret_and_redis_pass():
    assert not {"support_network.E001", "support_network.E002"} & check_ids()


def test_language_and_time_zone_are_japanese():
    from django.conf import settings

    assert (settings.LANGUAGE_CODE, settings.TIME_ZONE, settings.USE_TZ) == (
        "ja",
        "Asia/Tokyo",
        True,
    )


# --- Production settings: `manage.py check --deploy` in a fresh process --------

PROJECT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "example.jp",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/chizai_crm",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}
# Variables of the test run that must not leak into the "production" process.
CLEARED = (
    "DJANGO_SETTINGS_MODULE",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_SECRET_KEY_FILE",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
)


def run_manage(tmp_path, extra_env, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in CLEARED and not k.startswith(("DJANGO_SECURE", "AXES_"))
    }
    env.update(extra_env)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env["CRM_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_of(tmp_path, extra_env, *names):
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}))"
    )
    result = run_manage(tmp_path, extra_env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = run_manage(
        tmp_path, PRODUCTION_ENV, "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_turn_on_https_headers_and_secure_cookies(tmp_path):
    values = settings_of(
        tmp_path,
        PRODUCTION_ENV,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "X_FRAME_OPTIONS",
        "SECURE_REFERRER_POLICY",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_REFERRER_POLICY": "same-origin",
    }


def test_embedded_default_stays_plain_http_on_loopback(tmp_path):
    """manage.py with no environment: DEBUG on, plain http, no redirect, no HSTS.

    scripts/run.sh runs with DEBUG off and the HTTPS switches off
    (tests/config/test_error_pages.py).
    """
    values = settings_of(
        tmp_path,
        {},
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
    )

    assert values == {
        "DEBUG": True,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
    }


def test_each_https_switch_can_be_set_from_the_environment(tmp_path):
    """Behind a TLS proxy that redirects already, for instance."""
    values = settings_of(
        tmp_path,
        {
            **PRODUCTION_ENV,
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "1",
            "DJANGO_SECURE_HSTS_SECONDS": "3600",
        },
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
    )

    assert values == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_HSTS_SECONDS": 3600,
    }


def test_api_rate_limits_are_generous_by_default_and_set_from_the_environment(
    tmp_path,
):
    defaults = settings_of(tmp_path, PRODUCTION_ENV, "REST_FRAMEWORK")
    tuned = settings_of(
        tmp_path,
        {**PRODUCTION_ENV, "DJANGO_API_RATE_USER": "50/minute"},
        "REST_FRAMEWORK",
    )

    assert defaults["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {
        "user": "10000/hour",
        "anon": "1000/hour",
        "login": "3000/hour",
    }
    assert tuned["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"]["user"] == "50/minute"
