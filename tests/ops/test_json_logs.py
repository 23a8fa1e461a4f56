"""Structured logs: DJANGO_LOG_FORMAT=json gives one JSON object per line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import logging
import django
django.setup()
log = logging.getLogger("crm.services.notifications")
log.info("e-mailed %s notification %s to user %s", "follow_up.reminder", 41, 7,
         extra={"recipient": 7})
try:
    1 / 0
except ZeroDivisionError:
    log.exception("送信に失敗しました")
"""


def _run(log_format: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_LOG_FORMAT": log_format,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused",
    }
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_format_writes_one_object_per_line_with_the_message_and_extras():
    result = _run("json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line]
    sent, failed = lines[-2], lines[-1]
    assert sent["level"] == "INFO"
    assert sent["logger"] == "crm.services.notifications"
    assert sent["message"] == "e-mailed follow_up.reminder notification 41 to user 7"
    assert sent["recipient"] == 7
    assert sent["time"].endswith("+00:00")
    assert failed["level"] == "ERROR"
    assert failed["message"] == "送信に失敗しました"
    assert "ZeroDivisionError" in failed["exc_info"]


def test_plain_format_is_the_default_and_an_unknown_format_stops_start_up():
    plain = _run("plain")
    assert plain.returncode == 0, plain.stderr
    assert " INFO crm.services.notifications e-mailed follow_up.reminder" in (
        plain.stderr
    )
    bad = _run("xml")
    assert bad.returncode != 0
    assert "DJANGO_LOG_FORMAT must be plain or json" in bad.stderr
