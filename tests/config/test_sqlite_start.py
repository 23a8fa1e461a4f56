"""The embedded SQLite stack starts without the models.W040 warning (issue 16 Bugs).

The statistics facts' covering indexes (INCLUDE columns) are a PostgreSQL
optimisation; on SQLite every start printed "(models.W040) SQLite does not
support indexes with non-key columns". Only that check, only on SQLite, is
silenced (config/settings.py); PostgreSQL keeps every check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_sqlite_start_has_no_w040_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", CRM_VAR_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    output = result.stdout + result.stderr
    assert "W040" not in output
    assert "System check identified no issues" in output


def test_postgresql_silences_nothing():
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    assert "models.W040" not in settings.SILENCED_SYSTEM_CHECKS
