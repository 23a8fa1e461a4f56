"""E-mail copies are never lost when a worker dies mid-send (issue 26 item 8).

`emailed_at` used to be written before the send: a worker SIGKILLed between
the claim and the send left a row that looked mailed and was never sent.
Now a row is taken on a lease (`email_claimed_at`) and marked sent only
after the mail server accepted it; a lease that runs out is a dead worker,
and the sweep's backlog queues the mail again.
"""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from crm.models import Notification
from crm.services.notification_emails import notification_email_send
from crm.services.reminder_batches import SweepResult
from crm.services.reminders import _email_backlog
from crm.tasks import notification_email_task
from tests.conftest import make_actor

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def recipient(network):
    actor = make_actor("inpit-window-13", "window_staff", "lease-staff")
    actor.user.email = "lease-staff@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor.user


def rows(user, n: int, *, minutes_ago: int = 5) -> list[Notification]:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Notification.objects.bulk_create(
        Notification(
            recipient=user, kind="case.assigned", message=f"通知 {i}", created_at=at
        )
        for i in range(n)
    )


# --- the lease, in-process -----------------------------------------------------------


def test_a_claimed_but_unsent_mail_is_sent_once_its_lease_has_run_out(
    recipient, settings
):
    settings.CRM_EMAIL_LEASE_SECONDS = 300
    (n,) = rows(recipient, 1)
    # A worker took the lease, then died before sending (nothing was sent).
    Notification.objects.filter(pk=n.pk).update(
        email_claimed_at=timezone.now() - timedelta(seconds=30)
    )

    # While the lease holds, nobody else sends it (no double send)…
    assert notification_email_send(ids=[n.pk]) == 0
    assert mail.outbox == []
    n.refresh_from_db()
    assert n.emailed_at is None  # …and it is not taken for sent

    # …and once it has run out, the backlog queues it and it goes out once.
    Notification.objects.filter(pk=n.pk).update(
        email_claimed_at=timezone.now() - timedelta(seconds=301)
    )
    result = SweepResult()
    _email_backlog(timezone.now(), 500, result)
    assert result.counts["email.requeued"] == 1
    assert len(mail.outbox) == 1
    n.refresh_from_db()
    assert n.emailed_at is not None
    assert (
        mail.outbox[0]
        .extra_headers["Message-ID"]
        .startswith(f"<crm-notification-{n.pk}@")
    )
    assert notification_email_send(ids=[n.pk]) == 0
    assert len(mail.outbox) == 1


def test_emailed_at_is_written_only_after_the_server_accepted_the_mail(
    recipient, settings
):
    (n,) = rows(recipient, 1)
    seen = {}

    from django.core.mail.backends.locmem import EmailBackend

    class Watching(EmailBackend):
        def send_messages(self, messages):
            row = Notification.objects.get(pk=n.pk)
            seen["emailed_at"] = row.emailed_at
            seen["email_claimed_at"] = row.email_claimed_at
            return super().send_messages(messages)

    settings.EMAIL_BACKEND = f"{__name__}.WatchingBackend"
    globals()["WatchingBackend"] = Watching
    assert notification_email_send(ids=[n.pk]) == 1
    assert seen["emailed_at"] is None  # not yet "sent" while sending
    assert seen["email_claimed_at"] is not None
    n.refresh_from_db()
    assert n.emailed_at is not None


# --- a real worker, SIGKILLed mid-send ------------------------------------------------


def start_mail_worker(queue: str, mail_dir: Path) -> subprocess.Popen:
    celery_app.conf.task_always_eager = False
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.crm.worker_mail_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_VISIBILITY_TIMEOUT": "4",
        "CRM_TEST_MAIL_DIR": str(mail_dir),
        "CRM_TEST_MAIL_DELAY": "0.3",
        "CRM_EMAIL_LEASE_SECONDS": "3",
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


def message_ids(mail_dir: Path) -> list[str]:
    found = []
    for path in mail_dir.glob("*.eml"):
        found.append(email.message_from_bytes(path.read_bytes())["Message-ID"])
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_a_worker_killed_mid_send_loses_no_mail_and_doubles_none(
    recipient, tmp_path, settings, monkeypatch
):
    from tests.crm.test_reminders_worker import stop, wait_for

    settings.CRM_EMAIL_LEASE_SECONDS = 3
    queue = f"email-lease-test-{os.getpid()}"
    # The backlog's re-queue goes to this test's worker, not the default queue.
    queued = notification_email_task.apply_async
    monkeypatch.setattr(
        notification_email_task,
        "apply_async",
        lambda *args, **kwargs: queued(*args, **{**kwargs, "queue": queue}),
    )
    n = 20
    ids = [r.pk for r in rows(recipient, n)]
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    worker = start_mail_worker(queue, mail_dir)
    try:
        notification_email_task.apply_async(kwargs={"ids": ids}, queue=queue)
        # Kill it in the middle: some mails out, one being sent, some waiting.
        assert wait_for(lambda: len(message_ids(mail_dir)) >= 5, timeout=60)
        stop(worker, signal.SIGKILL)
        before = len(message_ids(mail_dir))
        assert 5 <= before < n
        unsent = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True)
        assert unsent.count() == n - before  # nothing marked sent that was not
        time.sleep(3.5)  # the dead worker's lease runs out

        worker = start_mail_worker(queue, mail_dir)
        # The reminder sweep's backlog queues every unsent mail again.
        result = SweepResult()
        _email_backlog(timezone.now(), 500, result)
        assert result.counts["email.requeued"] == n - before
        assert wait_for(lambda: not unsent.exists(), timeout=90)
        time.sleep(2.0)  # a late duplicate would show up now
    finally:
        stop(worker)
    sent = message_ids(mail_dir)
    assert sorted(sent) == sorted(set(sent))  # exactly once each
    assert len(sent) == n
