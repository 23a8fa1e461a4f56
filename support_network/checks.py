"""System checks that refuse an unsafe production configuration."""

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def check_production_settings(app_configs, **kwargs):
    """Refuse DEBUG=False with the default secret key or the filesystem broker."""
    from config.settings import INSECURE_SECRET_KEY

    errors = []
    if settings.DEBUG:
        return errors
    if settings.SECRET_KEY == INSECURE_SECRET_KEY:
        errors.append(
            Error(
                "DJANGO_SECRET_KEY is the development default while DEBUG is off.",
                hint="Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE).",
                id="support_network.E001",
            )
        )
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        errors.append(
            Error(
                "The Celery broker is the embedded filesystem transport while DEBUG is off.",
                hint="Set REDIS_URL (or CELERY_BROKER_URL) for production.",
                id="support_network.E002",
            )
        )
    return errors
