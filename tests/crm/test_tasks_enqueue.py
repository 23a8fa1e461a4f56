"""crm.tasks.enqueue: the one broker-error policy of crm (the only broker seam).

A broker outage neither loses nor fails the caller's write: the work is
recorded in our tables, a warning is logged, and the sweep that looks for
it queues it again later.
"""

from __future__ import annotations

import logging

from kombu.exceptions import OperationalError

from crm.tasks import ENQUEUE_RETRY_POLICY, enqueue


class FakeTask:
    def __init__(self, error: Exception | None = None):
        self.error = error
        self.calls: list[dict] = []

    def apply_async(self, **options):
        self.calls.append(options)
        if self.error is not None:
            raise self.error


def test_it_queues_the_keyword_arguments_with_a_short_publish_retry():
    task = FakeTask()

    assert enqueue(task, what="export 7", export_id=7) is True

    assert task.calls == [
        {
            "kwargs": {"export_id": 7},
            "retry": True,
            "retry_policy": ENQUEUE_RETRY_POLICY,
        }
    ]


def test_a_broker_outage_is_a_warning_not_an_error(caplog):
    task = FakeTask(OperationalError("Error 111 connecting to 127.0.0.1:6379"))

    with caplog.at_level(logging.WARNING, logger="crm.tasks"):
        assert enqueue(task, what="e-mail of 3 notifications", ids=[1, 2, 3]) is False

    assert any(
        "e-mail of 3 notifications not queued" in r.getMessage() for r in caplog.records
    )


def test_whatever_the_broker_client_raises_the_caller_goes_on():
    # e.g. an authentication error, which kombu does not wrap
    assert (
        enqueue(FakeTask(RuntimeError("NOAUTH")), what="export 8", export_id=8) is False
    )
