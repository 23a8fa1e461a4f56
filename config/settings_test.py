"""Test settings: the main settings on the real PostgreSQL and Redis of the machine.

Tests never fall back to SQLite or an in-memory broker: when PostgreSQL or
Redis is missing, the run fails loudly (see tests/conftest.py).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chizai_crm")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: F403
from config.settings import DATABASES

# CRM_TEST_DB_NAME lets two suites run side by side on one server.
DATABASES["default"]["TEST"] = {
    "NAME": os.environ.get("CRM_TEST_DB_NAME", "test_chizai_crm"),
    "TEMPLATE": "template0",
}
DATABASES["default"]["CONN_MAX_AGE"] = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
DEBUG = False
