"""The reminder sweep on a real Celery worker and real Redis (issue 5 (a), (b)).

The worker is a subprocess (`celery -A config worker`) on the test database,
listening on a queue of its own so other tests' messages in Redis db 15 do
not reach it. Its visibility timeout is short, so a message whose worker was
SIGKILLed comes back within seconds instead of an hour.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from crm.models import FollowUp, Notification
from crm.tasks import reminders_sweep_task
from support_network.calendar import JST
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker]

ROOT = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 4, 28, 9, 0, tzinfo=JST).isoformat()


def start_worker(queue: str, concurrency: int = 2) -> subprocess.Popen:
    # From now on this test's tasks go to the worker through the broker, not
    # in-process (tests/conftest.py celery_tasks_in_process turns that on).
    celery_app.conf.task_always_eager = False
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "CELERY_VISIBILITY_TIMEOUT": "4",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            f"--concurrency={concurrency}",
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


def stop(worker: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def reminders() -> int:
    return Notification.objects.filter(kind="follow_up.reminder").count()


@pytest.fixture
def due_follow_ups(network):
    def make(n: int) -> None:
        staff = make_actor("inpit-window-13", "window_staff", "worker-staff")
        case = CaseFactory(created_by=staff.user)
        FollowUp.objects.bulk_create(
            FollowUp(
                case=case,
                organisation=case.organisation,
                assignee=staff.user,
                due_on=date(2026, 4, 28),
                note=f"確認 {i}",
            )
            for i in range(n)
        )

    return make


def test_two_sweeps_at_once_on_a_real_worker_remind_each_once(due_follow_ups):
    due_follow_ups(400)
    queue = f"reminders-test-{os.getpid()}-a"
    worker = start_worker(queue, concurrency=2)
    try:
        for _ in range(2):
            reminders_sweep_task.apply_async(kwargs={"now": MOMENT}, queue=queue)
        assert wait_for(lambda: reminders() == 400, timeout=60)
        time.sleep(1.0)  # a late duplicate would show up now
    finally:
        stop(worker)
    assert reminders() == 400
    assert Notification.objects.values("dedupe_key").distinct().count() == 400
    assert set(FollowUp.objects.values_list("reminded_count", flat=True)) == {1}


def test_a_worker_killed_mid_batch_is_redelivered_and_reminds_each_once(
    due_follow_ups,
):
    due_follow_ups(6000)
    queue = f"reminders-test-{os.getpid()}-b"
    worker = start_worker(queue, concurrency=1)
    try:
        reminders_sweep_task.apply_async(kwargs={"now": MOMENT}, queue=queue)
        # Kill it once some batches are committed and others are not.
        assert wait_for(lambda: reminders() > 0, timeout=60)
        stop(worker, signal.SIGKILL)
        partial = reminders()
        assert 0 < partial < 6000
        # A new worker gets the unacknowledged message back (acks_late) once
        # the visibility timeout has passed, and finishes the sweep.
        worker = start_worker(queue, concurrency=1)
        # kombu restores unacked messages on its own timer: ~70 s measured.
        assert wait_for(lambda: reminders() == 6000, timeout=180)
        time.sleep(1.0)
    finally:
        stop(worker)
    assert reminders() == 6000
    assert set(FollowUp.objects.values_list("reminded_count", flat=True)) == {1}
