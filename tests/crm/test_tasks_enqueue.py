"""crm.tasks.enqueue: the one broker-error policy of crm (the only broker seam).

A broker outage neither loses nor fails the caller's write: the work is
recorded in our tables, a warning is logged, and the sweep that looks for
it queues it again later. The broker here is a real Redis URL on a port
nobody listens on.
"""

from __future__ import annotations

import logging

import pytest

from config.celery import app as celery_app
from crm.tasks import enqueue, export_build_task, notification_email_task
from tests.crm.test_reminders_broker_down import _use_broker, free_port

# Through the broker, not in-process (tests/conftest.py celery_tasks_in_process).
pytestmark = pytest.mark.celery_worker


@pytest.fixture
def dead_broker():
    previous = celery_app.conf.broker_url
    _use_broker(f"redis://127.0.0.1:{free_port()}/0")
    try:
        yield
    finally:
        _use_broker(previous)


def test_a_broker_outage_is_a_warning_not_an_error(dead_broker, caplog):
    with caplog.at_level(logging.WARNING, logger="crm.tasks"):
        queued = enqueue(
            notification_email_task, what="e-mail of 3 notifications", ids=[1, 2, 3]
        )

    assert queued is False
    assert any(
        "e-mail of 3 notifications not queued" in r.getMessage() for r in caplog.records
    )


def test_an_export_that_cannot_be_queued_is_not_failed(dead_broker, caplog):
    with caplog.at_level(logging.WARNING, logger="crm.tasks"):
        queued = enqueue(export_build_task, what="export 8", export_id=8)

    assert queued is False
    assert any("export 8 not queued" in r.getMessage() for r in caplog.records)
