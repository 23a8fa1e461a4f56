"""Settings of a Celery worker subprocess whose e-mails the test can read.

The test settings, with the slow file backend of worker_mail_backend and a
short e-mail lease (tests/crm/test_email_lease.py).
"""

import os

from config.settings_test import *  # noqa: F403

EMAIL_BACKEND = "tests.crm.worker_mail_backend.EmailBackend"
CRM_EMAIL_LEASE_SECONDS = int(os.environ.get("CRM_EMAIL_LEASE_SECONDS", "3"))
