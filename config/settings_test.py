"""Test settings: the main settings on the real PostgreSQL and Redis of the machine.

Tests never fall back to SQLite or an in-memory broker: when PostgreSQL or
Redis is missing, the run fails loudly (see tests/conftest.py).
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chizai_crm")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: F403
from config.settings import CACHES, DATABASES, REST_FRAMEWORK

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

# Cache keys (API rate-limit counters) apart per test database: several
# suites share the machine's Redis at once, and user ids repeat between them.
CACHES["default"]["KEY_PREFIX"] = DATABASES["default"]["TEST"]["NAME"]
# The suite makes many requests as few users within minutes; the rate-limit
# test lowers the rate itself (tests/security/test_rate_limits.py). Login
# throttling (django-axes) stays on: logins in tests pass the request.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": "1000000/hour",
    "anon": "1000000/hour",
    "login": "1000000/hour",
}

# The suite logs members in with force_login and no second factor; the
# requirement for managers and org admins (CRM_MFA_REQUIRED_ROLES) is on in
# tests/support_network/test_mfa.py, which turns it on itself. A user who
# has a TOTP device is asked for the code whatever this says.
CRM_MFA_REQUIRED_ROLES: list[str] = []
# The public survey page's per-address limit: the suite's requests all come
# from 127.0.0.1; tests/crm/test_surveys.py lowers it to test it.
CRM_SURVEY_RATE_PER_MINUTE = 1_000_000
