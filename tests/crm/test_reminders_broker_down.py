"""Reminders while the broker is down, then on a real worker (issue 5 (c)).

DESIGN.md "Reminders and scheduled work": a broker that is down only delays
e-mail copies. Logging a consultation and the sweep still succeed (the
notifications are the record); once Redis is back the next sweep queues the
unsent e-mails again and a real worker mails each one exactly once.

The broker is a private redis-server on a free port the OS picks, started and
stopped by this test; the machine's Redis on 6379 (the cache, other tests' broker) is
never touched. The in-process Celery app is pointed at it for the test and
restored afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app
from crm.models import FollowUp, Notification
from crm.services.reminders import reminders_sweep
from support_network.calendar import JST
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port nobody listens on now (the OS picks it).

    A fixed port (6391 before) made two suites on one machine collide.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Thu 19 Nov 2026: consultations are logged with a follow-up due Friday 20th;
# the sweep runs Friday after 09:00 JST (reference/calendar.md §2).
LOGGED_AT = dt.datetime(2026, 11, 19, 16, 0, tzinfo=JST)
SWEEP_AT = dt.datetime(2026, 11, 20, 9, 30, tzinfo=JST)


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


class PrivateRedis:
    """A throwaway redis-server (no persistence) that the test can stop."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        assert not _reachable(self.port), f"port {self.port} is already in use"
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_for(lambda: _reachable(self.port), timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        assert wait_for(lambda: not _reachable(self.port), timeout=10)


def _use_broker(url: str) -> None:
    """Point the in-process Celery app at `url`, dropping pooled connections.

    CELERY_BROKER_URL is read once at import; the producer pool keeps
    connections to the broker it was created for, so both are reset.
    """
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    # kombu keeps producer pools in a process-wide registry keyed by the
    # connection; drop them too, or later tests reuse a closed pool.
    kombu_pools.reset()
    celery_app.conf.broker_url = url


@pytest.fixture
def broker():
    redis = PrivateRedis(free_port())
    redis.start()
    previous = celery_app.conf.broker_url
    _use_broker(redis.url)
    try:
        yield redis
    finally:
        redis.stop()
        _use_broker(previous)


def start_worker(mail_dir: Path, var_dir: Path, broker_url: str) -> subprocess.Popen:
    """Start `celery -A config worker` on the test DB and the private broker.

    It runs the main settings (config.settings_test pins the locmem e-mail
    backend, whose outbox a subprocess cannot share) with the file backend
    writing one file per e-mail under `mail_dir` (= CRM_VAR_DIR/mail).
    """
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "CRM_VAR_DIR": str(var_dir),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    assert mail_dir == var_dir / "mail"
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "--concurrency=2",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def consultation(company, follow_up_on: dt.date, n: int) -> dict:
    return {
        "company": company.id,
        "occurred_at": "2026-11-19T15:00:00+09:00",
        "channel": "visit",
        "duration_minutes": 30,
        "topics": ["patent"],
        "ip_types": ["patent"],
        "summary": f"特許出願の進め方について相談 {n}",
        "follow_up_on": follow_up_on.isoformat(),
    }


def mails(mail_dir: Path) -> list[Path]:
    return sorted(mail_dir.glob("*.log")) if mail_dir.exists() else []


def test_broker_down_delays_reminder_emails_and_a_worker_sends_each_once(
    broker, network, api, time_machine, tmp_path
):
    User = get_user_model()
    staff = [
        make_actor("inpit-window-13", "window_staff", f"down-staff-{i}")
        for i in range(2)
    ]
    for actor in staff:
        User.objects.filter(pk=actor.user.pk).update(
            email=f"{actor.user.username}@example.invalid"
        )
    broker.stop()  # Redis is down from here on

    # Logging consultations does not need the broker.
    time_machine.move_to(LOGGED_AT, tick=False)
    for i in range(6):
        company = CompanyFactory()
        response = api(staff[i % 2]).post(
            "/api/v1/consultations/",
            consultation(company, SWEEP_AT.date(), i),
            format="json",
        )
        assert response.status_code == 201, response.content
    assert FollowUp.objects.filter(due_on=SWEEP_AT.date(), status="open").count() == 6

    # The sweep records every reminder although the e-mails cannot be queued.
    time_machine.move_to(SWEEP_AT, tick=False)
    assert reminders_sweep(now=SWEEP_AT).as_dict() == {"follow_up.reminder": 6}
    reminders = Notification.objects.filter(kind="follow_up.reminder")
    assert reminders.count() == 6
    assert set(reminders.values_list("recipient__username", flat=True)) == {
        "down-staff-0",
        "down-staff-1",
    }
    assert reminders.filter(emailed_at__isnull=True).count() == 6
    assert set(FollowUp.objects.values_list("reminded_count", flat=True)) == {1}

    # Redis is back and a real worker runs: the next sweep re-queues the
    # unsent e-mails and records nothing new.
    broker.start()
    var_dir = tmp_path / "var"
    mail_dir = var_dir / "mail"
    worker = start_worker(mail_dir, var_dir, broker.url)
    try:
        time_machine.move_to(SWEEP_AT + dt.timedelta(minutes=10), tick=False)
        again = reminders_sweep(now=SWEEP_AT + dt.timedelta(minutes=10))
        assert again.as_dict() == {"email.requeued": 6}
        assert wait_for(
            lambda: not reminders.filter(emailed_at__isnull=True).exists(),
            timeout=40,
        )
        # A later sweep finds nothing unsent: no e-mail is queued twice.
        time_machine.move_to(SWEEP_AT + dt.timedelta(minutes=20), tick=False)
        assert reminders_sweep(now=SWEEP_AT + dt.timedelta(minutes=20)).as_dict() == {}
        time.sleep(1.0)  # a duplicate e-mail would show up now
    finally:
        stop(worker)

    assert reminders.count() == 6
    assert reminders.values("dedupe_key").distinct().count() == 6
    emailed = list(reminders.values_list("emailed_at", flat=True))
    assert None not in emailed
    # The file backend appends each message to a file named by second and
    # backend object id, so messages are counted, not files.
    text = "\n".join(f.read_text() for f in mails(mail_dir))
    assert text.count("\nMessage-ID: ") == 6
    for actor in staff:
        assert text.count(f"\nTo: {actor.user.username}@example.invalid\n") == 3
    for i in range(6):  # each follow-up's reminder mailed once
        assert text.count(f"特許出願の進め方について相談 {i}\n") == 1
    assert text.count("本日が期日のフォローアップがあります") == 6
