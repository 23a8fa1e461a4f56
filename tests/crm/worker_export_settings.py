"""Settings of a Celery worker subprocess that builds a slow export.

The test settings, plus the slow `referrals` kind (tests/crm/slow_export_app),
frequent heartbeats and a short staleness (tests/crm/test_export_reclaim.py).
"""

import os

from config.settings_test import *  # noqa: F403
from config.settings_test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.crm.slow_export_app"]
CRM_EXPORT_HEARTBEAT_SECONDS = float(
    os.environ.get("CRM_EXPORT_HEARTBEAT_SECONDS", "0.5")
)
CRM_EXPORT_HEARTBEAT_STALE_SECONDS = float(
    os.environ.get("CRM_EXPORT_HEARTBEAT_STALE_SECONDS", "3")
)
