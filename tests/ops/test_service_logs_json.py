"""Celery worker, beat and gunicorn log JSON lines with DJANGO_LOG_FORMAT=json.

Each service is a real subprocess (as in docker-compose.yml) on the test
database, its stdout and stderr written to files; after it stops, every
non-empty line must be a JSON object with `level`, `logger` and `message`.
The Celery broker is Redis database 13 (the suite's other tests use 15), on a
queue of this test's own.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
from django.db import connection

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BROKER_URL = "redis://127.0.0.1:6379/13"
# Celery writes these straight to stdout from its SIGTERM handler (os.write in
# celery.apps.worker._shutdown_handler), past any logging configuration.
CELERY_RAW_LINES = {"worker: Warm shutdown (MainProcess)"}


def _env(**extra: str) -> dict[str, str]:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DJANGO_LOG_FORMAT": "json",
        "DJANGO_LOG_LEVEL": "INFO",
        "DATABASE_URL": (
            f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": BROKER_URL,
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    if os.getuid() == 0:
        # Celery warns about root before any logging is set up (the image
        # runs as an unprivileged user, Dockerfile USER crm).
        env["PYTHONWARNINGS"] = "ignore:You're running the worker with superuser"
    return env


def _start(args: list[str], out: Path, err: Path, env: dict) -> subprocess.Popen:
    with out.open("wb") as stdout, err.open("wb") as stderr:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _output(*paths: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in paths)


def _wait_for(proc: subprocess.Popen, predicate, timeout: float, *paths: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"exited with {proc.returncode}:\n{_output(*paths)[-4000:]}")
        time.sleep(0.2)
    if not predicate():
        pytest.fail(f"timed out after {timeout} s:\n{_output(*paths)[-4000:]}")


def _json_lines(*paths: Path, raw: set[str] = frozenset()) -> list[dict]:
    """Parse every non-empty line; `raw` lists the known non-log lines."""
    entries = []
    for path in paths:
        for line in path.read_text().splitlines():
            if not line.strip() or line.strip() in raw:
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                pytest.fail(f"not JSON in {path.name}: {line!r}")
            assert {"time", "level", "logger", "message"} <= entry.keys(), line
            entries.append(entry)
    return entries


def _messages(entries: list[dict], logger: str) -> list[str]:
    return [e["message"] for e in entries if e["logger"] == logger]


# --- Celery -------------------------------------------------------------------------


@pytest.mark.celery_worker
def test_celery_worker_logs_only_json_lines(tmp_path):
    queue = f"logs-json-test-{os.getpid()}"
    out, err = tmp_path / "worker.out", tmp_path / "worker.err"
    worker = _start(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
        ],
        out,
        err,
        _env(),
    )
    try:
        _wait_for(worker, lambda: " ready." in err.read_text(), 90, out, err)
        with celery_app.connection_for_write(BROKER_URL) as conn:
            celery_app.send_task(
                "celery.accumulate", args=[1, 2], queue=queue, connection=conn
            )
            celery_app.send_task("crm.no_such_task", queue=queue, connection=conn)
        _wait_for(
            worker,
            lambda: (
                "succeeded" in err.read_text() and "unregistered" in err.read_text()
            ),
            30,
            out,
            err,
        )
    finally:
        _stop(worker)
        client = redis.Redis.from_url(BROKER_URL)
        client.delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )
        client.close()

    entries = _json_lines(out, err, raw=CELERY_RAW_LINES)
    assert all(e["level"] in ("INFO", "WARNING", "ERROR") for e in entries)
    worker_lines = _messages(entries, "celery.apps.worker")
    # The banner, logged once instead of printed.
    assert any(
        "[config]" in m and ".> transport:   redis://" in m for m in worker_lines
    )
    assert any(m.startswith("celery@") and m.endswith(" ready.") for m in worker_lines)
    received = _messages(entries, "celery.worker.strategy")
    assert any(m.startswith("Task celery.accumulate[") for m in received)
    succeeded = [
        e
        for e in entries
        if e["logger"] == "celery.app.trace" and "succeeded" in e["message"]
    ]
    assert len(succeeded) == 1
    assert succeeded[0]["message"].endswith(": (1, 2)")
    assert succeeded[0]["data"]["name"] == "celery.accumulate"
    # Records logged while a task runs name it (config/celery.py).
    assert succeeded[0]["task_name"] == "celery.accumulate"
    assert succeeded[0]["task_id"] == succeeded[0]["data"]["id"]
    # A multi-line message stays one line.
    (unregistered,) = [e for e in entries if "unregistered" in e["message"]]
    assert unregistered["level"] == "ERROR"
    assert "\n" in unregistered["message"]


def test_celery_beat_started_quiet_logs_only_json_lines(tmp_path):
    out, err = tmp_path / "beat.out", tmp_path / "beat.err"
    # --quiet: beat prints its banner before any logging hook runs. The
    # file scheduler (in tmp_path) keeps beat off the test database's tables;
    # no entry of CELERY_BEAT_SCHEDULE is due at start, so nothing is sent.
    beat = _start(
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "--quiet",
            "beat",
            "--loglevel=INFO",
            "--scheduler=celery.beat:PersistentScheduler",
            f"--schedule={tmp_path / 'beat-schedule'}",
            f"--pidfile={tmp_path / 'beat.pid'}",
        ],
        out,
        err,
        _env(),
    )
    try:
        _wait_for(beat, lambda: "beat: Starting" in err.read_text(), 90, out, err)
    finally:
        _stop(beat)
    entries = _json_lines(out, err)
    assert "beat: Starting..." in _messages(entries, "celery.beat")


_RECEIVERS_SCRIPT = """
from celery import signals
from config import celery as c
print(c._setup_json_logging in [r for _k, r in signals.setup_logging.receivers],
      c._banner_as_log in [r for _k, r in signals.celeryd_after_setup.receivers])
"""


@pytest.mark.parametrize(
    ("log_format", "connected"), [("plain", "False False"), ("json", "True True")]
)
def test_only_the_json_format_takes_logging_from_celery(log_format, connected):
    # A fresh interpreter per format: the choice is made when config.celery
    # is imported, whatever this test process was started with.
    result = subprocess.run(
        [sys.executable, "-c", _RECEIVERS_SCRIPT],
        env={**os.environ, "DJANGO_LOG_FORMAT": log_format},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == connected


# --- gunicorn -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float) -> int:
    """GET url once the server answers; return the status."""
    request = urllib.request.Request(url, headers={"User-Agent": "logs-test/1.0"})
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_gunicorn_logs_json_error_and_access_lines(tmp_path):
    port = _free_port()
    out, err = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    server = _start(
        [
            str(BIN / "gunicorn"),
            "-c",
            "config/gunicorn.conf.py",
            "config.wsgi",
            f"--bind=127.0.0.1:{port}",
            # No socket in $HOME/.gunicorn shared with other gunicorns here.
            "--no-control-socket",
        ],
        out,
        err,
        _env(WEB_CONCURRENCY="1"),
    )
    try:
        _wait_for(server, lambda: "Booting worker" in err.read_text(), 60, out, err)
        status = _get(f"http://127.0.0.1:{port}/health/?probe=1", timeout=60)
        assert status == 200
        _wait_for(server, lambda: "/health/" in out.read_text(), 10, out, err)
    finally:
        _stop(server)

    entries = _json_lines(out, err)
    errors = _messages(entries, "gunicorn.error")
    assert f"Listening at: http://127.0.0.1:{port} ({server.pid})" in errors
    assert sum(m.startswith("Booting worker") for m in errors) == 1  # WEB_CONCURRENCY
    (access,) = [e for e in entries if e["logger"] == "gunicorn.access"]
    assert access["level"] == "INFO"
    assert access["method"] == "GET"
    assert access["path"] == "/health/"
    assert access["query"] == "probe=1"
    assert access["status"] == 200
    assert isinstance(access["bytes"], int) and access["bytes"] > 0
    assert isinstance(access["duration_ms"], float)
    assert access["remote_addr"] == "127.0.0.1"
    assert access["user_agent"] == "logs-test/1.0"
    assert '"GET /health/?probe=1 HTTP/1.1" 200' in access["message"]
    assert all(e["logger"] == "gunicorn.access" for e in _json_lines(out))


def _gunicorn_settings(monkeypatch, **env: str) -> dict:
    for name in ("PORT", "WEB_CONCURRENCY", "DJANGO_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))


def test_gunicorn_config_plain_is_gunicorns_default_logging(monkeypatch):
    plain = _gunicorn_settings(monkeypatch)
    assert plain["bind"] == "0.0.0.0:8000"
    assert plain["workers"] == 5
    assert "logconfig_dict" not in plain and "accesslog" not in plain
    plain = _gunicorn_settings(
        monkeypatch, PORT="9000", WEB_CONCURRENCY="3", DJANGO_LOG_FORMAT="plain"
    )
    assert (plain["bind"], plain["workers"]) == ("0.0.0.0:9000", 3)
    assert "logconfig_dict" not in plain
    json_mode = _gunicorn_settings(monkeypatch, DJANGO_LOG_FORMAT="json")
    assert json_mode["accesslog"] == "-"
    assert json_mode["logconfig_dict"]["loggers"].keys() == {
        "gunicorn.error",
        "gunicorn.access",
    }
