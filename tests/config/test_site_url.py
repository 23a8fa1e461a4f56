"""CRM_SITE_URL follows PORT in the embedded default (issue 16 Bugs).

`PORT=8765 scripts/run.sh` serves 127.0.0.1:8765, but notification e-mails
linked to :8000 because the default of CRM_SITE_URL ignored PORT.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def site_url(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "CRM_SITE_URL")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.CRM_SITE_URL)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_default_site_url_follows_port():
    assert site_url(PORT="8765") == "http://127.0.0.1:8765"


def test_default_site_url_without_port_is_8000():
    assert site_url() == "http://127.0.0.1:8000"


def test_an_explicit_site_url_wins_over_port():
    assert site_url(PORT="8765", CRM_SITE_URL="https://crm.example.jp") == (
        "https://crm.example.jp"
    )


def test_run_script_exports_the_site_url_of_its_port():
    script = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")

    assert 'export CRM_SITE_URL="${CRM_SITE_URL:-http://127.0.0.1:$PORT}"' in script
