"""`/health/`: is the CRM able to do its work? (issue 5 "Operations").

JSON for load balancers and operators: 200 when the database and the broker
answer, 503 otherwise. It also shows when the reminder sweep last finished
and, on Redis, how many messages wait in the default queue, so a stalled
worker or beat is visible before anyone misses a reminder.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

# Seconds the page waits for the broker before calling it down.
BROKER_TIMEOUT = 2.0


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _broker() -> tuple[bool, int | None]:
    """Return whether the broker answers and the default queue's length."""
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
            length = None
            if conn.transport.driver_type == "redis":
                queue = app.conf.task_default_queue
                length = conn.default_channel.client.llen(queue)
            return True, length
    # Any failure (refused, timeout, auth, DNS) means "broker down" here.
    except Exception:
        return False, None


@never_cache
@require_GET
def health(request):
    """Return the health of the database, the broker and the reminder sweep."""
    from crm.services.reminders import reminders_last_sweep_at

    database = _database()
    broker, queue_length = _broker()
    last_sweep = reminders_last_sweep_at() if database else None
    body = {
        "status": "ok" if database and broker else "error",
        "database": "ok" if database else "error",
        "broker": "ok" if broker else "error",
        "last_sweep_at": last_sweep.isoformat() if last_sweep else None,
        "queue_length": queue_length,
    }
    return JsonResponse(body, status=200 if database and broker else 503)
