"""Exports whose worker died are built again within minutes (issue 26 item 7).

A worker SIGKILLed mid-build used to leave the export 「作成中 17%」 until the
daily clean-up (its started_at had to be older than the hard time limit),
counting against the three-exports limit; the redelivered task refused to
resume. Now the building worker writes a heartbeat; a running export whose
heartbeat stopped is claimed again by the redelivered task or the minutely
reclaim, and fails clearly after MAX_EXPORT_ATTEMPTS. The limit of three
exports under way holds under concurrent requests (a row lock per requester).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from crm.exports import requests as export_requests
from crm.exports.build import EXPORT_TIME_LIMIT, MAX_EXPORT_ATTEMPTS, export_build
from crm.exports.requests import export_request
from crm.exports.sweeps import exports_reclaim
from crm.models import Export
from support_network.errors import Conflict
from tests.conftest import make_actor

ROOT = Path(__file__).resolve().parents[2]
FY = 2025


@pytest.fixture
def staff(network):
    return make_actor("inpit-window-13", "window_staff", "reclaim-staff")


def new_export(staff, **fields) -> Export:
    now = timezone.now()
    return Export.objects.create(
        requested_by=staff.user,
        organisation=staff.organisation,
        role=staff.role,
        kind="referrals",
        fiscal_year=FY,
        format="csv",
        created_at=now,
        expires_at=now + timedelta(days=7),
        **fields,
    )


# --- in-process --------------------------------------------------------------------------


def test_a_running_export_with_a_silent_heartbeat_is_built_again(
    staff, settings, tmp_path
):
    settings.EXPORT_DIR = tmp_path
    now = timezone.now()
    export = new_export(
        staff,
        status="running",
        progress=17,
        attempts=1,
        started_at=now - timedelta(minutes=3),
        heartbeat_at=now - timedelta(minutes=2),
    )
    # Before: refused until started_at was 2,200 s old ("claimed": False).
    result = export_build(export_id=export.pk)
    assert result["status"] == "done"
    export.refresh_from_db()
    assert (export.status, export.progress, export.attempts) == ("done", 100, 2)


def test_a_build_whose_heartbeat_is_fresh_is_left_to_its_worker(staff):
    now = timezone.now()
    export = new_export(
        staff,
        status="running",
        attempts=1,
        started_at=now - timedelta(minutes=20),
        heartbeat_at=now - timedelta(seconds=5),
    )
    assert export_build(export_id=export.pk)["claimed"] is False
    assert exports_reclaim()["requeued"] == 0


def test_the_reclaim_queues_builds_whose_worker_died(staff, monkeypatch):
    queued = []
    monkeypatch.setattr(
        export_requests,
        "export_enqueue",
        lambda *, export_id: queued.append(export_id) or True,
    )
    now = timezone.now()
    dead = new_export(
        staff,
        status="running",
        started_at=now - timedelta(minutes=3),
        heartbeat_at=now - timedelta(minutes=2),
    )
    new_export(
        staff,
        status="running",
        started_at=now - timedelta(minutes=3),
        heartbeat_at=now - timedelta(seconds=3),
    )
    assert exports_reclaim() == {"requeued": 1, "failed": 0}
    assert queued == [dead.pk]


def test_an_export_killed_every_time_fails_with_a_clear_message(staff):
    now = timezone.now()
    export = new_export(
        staff,
        status="running",
        attempts=MAX_EXPORT_ATTEMPTS,
        started_at=now - timedelta(minutes=5),
        heartbeat_at=now - timedelta(minutes=4),
    )
    assert export_build(export_id=export.pk)["status"] == "failed"
    export.refresh_from_db()
    assert export.status == "failed"
    assert "繰り返し中断" in export.error


def test_a_dead_build_that_ran_its_whole_time_limit_fails_instead_of_rerunning(
    staff, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        export_requests,
        "export_enqueue",
        lambda *, export_id: queued.append(export_id) or True,
    )
    now = timezone.now()
    export = new_export(
        staff,
        status="running",
        attempts=1,
        started_at=now - timedelta(seconds=EXPORT_TIME_LIMIT + 60),
        heartbeat_at=now - timedelta(minutes=3),
    )
    # Killed by Celery's hard limit: built again it would only time out again.
    assert exports_reclaim() == {"requeued": 0, "failed": 1}
    export.refresh_from_db()
    assert export.status == "failed" and "制限時間" in export.error
    assert queued == []


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_requests_create_at_most_three_exports(staff, monkeypatch):
    monkeypatch.setattr(export_requests, "export_enqueue", lambda *, export_id: True)
    barrier = threading.Barrier(20)
    outcomes = []

    def request():
        try:
            barrier.wait()
            export_request(
                actor=staff, kind="consultations", fiscal_year=FY, format="csv"
            )
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Before the row lock: up to 8 of the 20 were created.
    assert outcomes.count("created") == 3
    assert outcomes.count("conflict") == 17
    assert Export.objects.filter(requested_by=staff.user).count() == 3


# --- a real worker, SIGKILLed mid-build ------------------------------------------------


def start_export_worker(queue: str, export_dir: Path) -> subprocess.Popen:
    celery_app.conf.task_always_eager = False
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.crm.worker_export_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CRM_EXPORT_DIR": str(export_dir),
        "CRM_TEST_EXPORT_ROWS": "100",
        "CRM_TEST_EXPORT_ROW_DELAY": "0.08",
        "CRM_EXPORT_HEARTBEAT_SECONDS": "0.5",
        "CRM_EXPORT_HEARTBEAT_STALE_SECONDS": "3",
    }
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--concurrency=1",
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_an_export_whose_worker_is_killed_mid_build_finishes_within_minutes(
    staff, tmp_path, settings, monkeypatch
):
    from crm.tasks import export_build_task
    from tests.crm.test_reminders_worker import stop, wait_for

    settings.CRM_EXPORT_HEARTBEAT_STALE_SECONDS = 3
    export_dir = tmp_path / "exports"
    export_dir.mkdir()
    queue = f"export-reclaim-test-{os.getpid()}"
    # The reclaim's re-queue goes to this test's worker, not the default queue.
    queued = export_build_task.apply_async
    monkeypatch.setattr(
        export_build_task,
        "apply_async",
        lambda *args, **kwargs: queued(*args, **{**kwargs, "queue": queue}),
    )
    export = new_export(staff)

    worker = start_export_worker(queue, export_dir)
    try:
        export_build_task.apply_async(kwargs={"export_id": export.pk}, queue=queue)

        # Kill it in the middle of the build (8 s of rows): its heartbeat
        # has beaten for a couple of seconds.
        def building() -> bool:
            row = Export.objects.get(pk=export.pk)
            return (
                row.status == "running"
                and row.heartbeat_at is not None
                and row.heartbeat_at - row.started_at > timedelta(seconds=2)
            )

        assert wait_for(building, timeout=60)
        stop(worker, signal.SIGKILL)
        export.refresh_from_db()
        assert export.status == "running" and export.progress < 100
        killed_at = timezone.now()

        worker = start_export_worker(queue, export_dir)

        # The minutely reclaim (beat "crm.exports_reclaim"), run here by hand
        # until the heartbeat has gone stale and the build is queued again.
        def reclaimed() -> bool:
            return exports_reclaim()["requeued"] > 0

        assert wait_for(reclaimed, timeout=30)
        assert wait_for(
            lambda: Export.objects.get(pk=export.pk).status in ("done", "failed"),
            timeout=120,
        )
    finally:
        stop(worker)
    export.refresh_from_db()
    assert export.status == "done", export.error
    assert export.row_count == 100 and export.progress == 100
    assert export.attempts == 2
    assert export.finished_at - killed_at < timedelta(minutes=3)
    lines = (export_dir / export.file_path).read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 101  # header and every row once
    assert [p.name for p in export_dir.iterdir() if not p.name.startswith(".")] == [
        export.file_path
    ]
