"""Building an export's file (the Celery task `crm.export_build`).

`export_build` claims the export, streams the rows of its kind into a CSV
or xlsx file under settings.EXPORT_DIR with progress 0–100 while a
heartbeat thread says the worker is alive, and records the result or the
failure. A build whose worker died is claimed again (crm/exports/sweeps.py
re-queues it) or failed after MAX_EXPORT_ATTEMPTS.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.exports.files import export_dir
from crm.exports.kinds import ExportTable, export_kinds
from crm.exports.writers import WriteResult, write_csv, write_xlsx
from crm.models import (
    Export,
)
from support_network.actors import Actor
from support_network.errors import (
    DomainError,
    PermissionDenied,
    ValidationFailed,
)
from support_network.selectors import active_memberships

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 5000
# Celery limits of crm.export_build (crm/tasks.py). A build also outliving
# the hard limit by EXPORT_STALE_AFTER is dead whatever its heartbeat says.
EXPORT_SOFT_TIME_LIMIT = 1800
EXPORT_TIME_LIMIT = 1900
EXPORT_STALE_AFTER = timedelta(seconds=EXPORT_TIME_LIMIT + 300)
# A build whose worker was killed would stay 「作成中」 until EXPORT_STALE_AFTER
# (issue 26 item 7); a heartbeat says sooner that it lost its worker: the
# building worker writes `heartbeat_at` every export_heartbeat_every() and a
# running export silent for export_heartbeat_stale() is claimed again by the
# redelivered task or the minutely reclaim (`exports_reclaim`). After
# MAX_EXPORT_ATTEMPTS builds it is failed with a clear message instead.
MAX_EXPORT_ATTEMPTS = 3
# A pending export whose message was lost is queued again after this.
EXPORT_REQUEUE_AFTER = timedelta(minutes=10)


def export_heartbeat_every() -> float:
    """Seconds between two heartbeats of a build (CRM_EXPORT_HEARTBEAT_SECONDS, 10)."""
    return float(getattr(settings, "CRM_EXPORT_HEARTBEAT_SECONDS", 10))


def export_heartbeat_stale() -> timedelta:
    """How long a silent build is taken for dead (CRM_EXPORT_HEARTBEAT_STALE_SECONDS, 90)."""
    return timedelta(
        seconds=float(getattr(settings, "CRM_EXPORT_HEARTBEAT_STALE_SECONDS", 90))
    )


def lost_worker_q(now: datetime) -> Q:
    """Return 'running, and its worker is gone' (heartbeat silent, or far too old)."""
    silent = Q(heartbeat_at__lt=now - export_heartbeat_stale()) | Q(
        heartbeat_at__isnull=True, started_at__lt=now - export_heartbeat_stale()
    )
    return Q(status=Export.Status.RUNNING) & (
        silent | Q(started_at__lt=now - EXPORT_STALE_AFTER)
    )


class _Heartbeat:
    """Write `heartbeat_at` of a running export every few seconds, in a thread.

    Stops at `stop()` or when the export is no longer this build's (another
    worker re-claimed it, or it finished). Its own database connection,
    closed when it stops.
    """

    def __init__(self, export_id: int, started_at: datetime) -> None:
        self.export_id = export_id
        self.started_at = started_at
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"export-{export_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from django.db import connection

        try:
            while not self._stop.wait(export_heartbeat_every()):
                alive = Export.objects.filter(
                    pk=self.export_id,
                    status=Export.Status.RUNNING,
                    started_at=self.started_at,
                ).update(heartbeat_at=timezone.now())
                if not alive:
                    return
        except Exception:  # a heartbeat must never break the build
            logger.exception("export %s: heartbeat failed", self.export_id)
        finally:
            connection.close()


def _actor_of(export: Export) -> Actor:
    """Rebuild the requester's Actor from the export's user, organisation and role.

    The requester must still be an active member of the organisation with
    the same role, so an export never outlives the rights it was asked with.
    """
    membership = (
        active_memberships()
        .filter(
            user_id=export.requested_by_id,
            organisation_id=export.organisation_id,
        )
        .select_related("user", "organisation")
        .first()
    )
    if membership is None or membership.role != export.role:
        raise PermissionDenied(
            _(
                "依頼者の所属または役割が変わったため作成できませんでした。"
                "もう一度依頼してください。"
            ),
            code="membership_changed",
        )
    return Actor(user=membership.user, membership=membership)


class _Progress:
    """Write the export's progress (0–99 while running) as rows are written.

    From the row count when the provider knows its total, otherwise from the
    provider's `position` of the last row written (e.g. how far into the
    fiscal year its date is), which costs no COUNT query.
    """

    def __init__(self, export_id: int, table: ExportTable) -> None:
        self.export_id = export_id
        self.total = table.total
        self.position = table.position
        self.last = 0
        self.row = None
        rows = table.rows
        if self.total is None and self.position is not None:
            rows = self._tracked(rows)
        self.rows = rows

    def _tracked(self, rows: Iterable[Sequence]) -> Iterator[Sequence]:
        for row in rows:
            self.row = row
            yield row

    def __call__(self, rows: int) -> None:
        if self.total:
            fraction = rows / self.total
        elif self.position is not None and self.row is not None:
            fraction = self.position(self.row)
        else:
            return
        percent = max(0, min(99, int(fraction * 100)))
        if percent > self.last:
            self.last = percent
            Export.objects.filter(
                pk=self.export_id, status=Export.Status.RUNNING
            ).update(progress=percent)


TIME_LIMIT_MESSAGE = gettext_lazy(
    "制限時間内に作成が終わりませんでした。条件を絞ってもう一度依頼してください。"
)


def fail_overruns(now: datetime, **filters) -> int:
    """Fail the dead builds that had run for the whole hard time limit.

    Celery killed them at EXPORT_TIME_LIMIT (or they died that late): built
    again they would most likely run out of time again, so they fail now
    with the time-limit message rather than after three more half-hours.
    """
    return (
        Export.objects.filter(lost_worker_q(now), **filters)
        .filter(started_at__lt=now - timedelta(seconds=EXPORT_TIME_LIMIT))
        .update(
            status=Export.Status.FAILED,
            error=str(TIME_LIMIT_MESSAGE),
            finished_at=now,
        )
    )


def _claim(export_id: int, now: datetime) -> bool:
    """Move the export pending → running; True if this call won it.

    A conditional UPDATE, so two deliveries of the task build it once. A
    "running" export whose heartbeat stopped lost its worker (a SIGKILL, an
    OOM kill; acks_late redelivers the task) and is claimed again.
    """
    return bool(
        Export.objects.filter(pk=export_id)
        .filter(Q(status=Export.Status.PENDING) | lost_worker_q(now))
        .update(
            status=Export.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress=0,
            error="",
        )
    )


def export_build(*, export_id: int, now: datetime | None = None) -> dict:
    """Build the export's file (the Celery task `crm.export_build`).

    Idempotent: only the call that claims the export builds it; any other
    returns at once. The rows go to a temporary file in EXPORT_DIR that is
    renamed into place when complete, so a half-written file is never served.
    Returns a small summary.
    """
    now = now or timezone.now()
    fail_overruns(now, pk=export_id)
    if not _claim(export_id, now):
        status = (
            Export.objects.filter(pk=export_id).values_list("status", flat=True).first()
        )
        return {"export": export_id, "claimed": False, "status": status}
    export = Export.objects.select_related("organisation").get(pk=export_id)
    if export.attempts > MAX_EXPORT_ATTEMPTS:
        # Killed every time (e.g. out of memory): stop trying, say so.
        Export.objects.filter(
            pk=export.pk, status=Export.Status.RUNNING, started_at=now
        ).update(
            status=Export.Status.FAILED,
            error=_(
                "作成処理が繰り返し中断されたため作成できませんでした。"
                "条件を絞ってもう一度依頼してください。"
            ),
            finished_at=timezone.now(),
        )
        logger.warning("export %s failed after %s attempts", export.pk, export.attempts)
        return {"export": export_id, "claimed": True, "status": "failed"}
    directory = export_dir()
    token = secrets.token_hex(8)
    final = directory / f"{export.pk}-{token}.{export.format}"
    temp = directory / f".tmp-{export.pk}-{token}.{export.format}"
    try:
        with _Heartbeat(export.pk, now):
            result = _write(export, temp)
        os.replace(temp, final)
    except Exception as exc:  # any failure is recorded, never raised
        temp.unlink(missing_ok=True)
        _fail(export, exc)
        return {"export": export_id, "claimed": True, "status": "failed"}
    updated = Export.objects.filter(
        pk=export.pk, status=Export.Status.RUNNING, started_at=now
    ).update(
        status=Export.Status.DONE,
        progress=100,
        row_count=result.row_count,
        replaced_char_count=result.replaced_char_count,
        file_path=final.name,
        file_size=final.stat().st_size,
        finished_at=timezone.now(),
        error="",
    )
    if not updated:  # another worker re-claimed it meanwhile: keep theirs
        final.unlink(missing_ok=True)
        return {"export": export_id, "claimed": True, "status": "superseded"}
    return {
        "export": export_id,
        "claimed": True,
        "status": "done",
        "rows": result.row_count,
    }


def _write(export: Export, path: Path) -> WriteResult:
    spec = export_kinds().get(export.kind)
    if spec is None:
        raise ValidationFailed(
            _("この種類のエクスポートは利用できません: %(kind)s")
            % {"kind": export.kind}
        )
    actor = _actor_of(export)
    if spec.builder is not None:

        def percent(value: int) -> None:
            Export.objects.filter(
                pk=export.pk, status=Export.Status.RUNNING
            ).update(progress=max(0, min(99, int(value))))

        return spec.builder(export=export, actor=actor, path=path, progress=percent)
    table = spec.provider(
        actor=actor, fiscal_year=export.fiscal_year, params=export.params or {}
    )
    progress = _Progress(export.pk, table)
    if export.format == Export.Format.XLSX:
        return write_xlsx(
            path,
            table.columns,
            progress.rows,
            sheet_title=table.sheet_title,
            progress=progress,
            progress_every=PROGRESS_EVERY,
            fiscal_year=export.fiscal_year,
        )
    return write_csv(
        path,
        table.columns,
        progress.rows,
        encoding=export.encoding,
        progress=progress,
        progress_every=PROGRESS_EVERY,
    )


def _fail(export: Export, exc: Exception) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(exc, DomainError):
        message = exc.detail
    elif isinstance(exc, SoftTimeLimitExceeded):
        message = str(TIME_LIMIT_MESSAGE)
    else:
        logger.exception("export %s failed", export.pk)
        message = _(
            "作成中にエラーが発生しました。もう一度依頼しても失敗する場合は管理者に連絡してください。"
        )
    Export.objects.filter(pk=export.pk, status=Export.Status.RUNNING).update(
        status=Export.Status.FAILED, error=message, finished_at=timezone.now()
    )
