"""The deploy checks refuse an unsafe production configuration."""

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
