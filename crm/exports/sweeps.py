"""The periodic export sweeps beat runs: reclaim (every minute), clean-up (daily).

`exports_reclaim` re-queues builds that lost their worker or their queue
message; `exports_cleanup` deletes files and rows whose 7 days have passed
and the leftovers of crashed builds. Kept apart from the build, which they
drive, and from the files, which they delete.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from django.db.models import Q
from django.utils import timezone

from crm.exports import requests
from crm.exports.build import EXPORT_REQUEUE_AFTER, fail_overruns, lost_worker_q
from crm.exports.files import export_dir
from crm.models import (
    Export,
)

logger = logging.getLogger(__name__)


def exports_cleanup(*, now: datetime | None = None) -> dict:
    """Delete expired exports (file and row) and leftovers of crashed builds.

    Also re-queues exports whose queue message was lost (pending for more
    than EXPORT_REQUEUE_AFTER) or whose worker died (running for longer than
    EXPORT_STALE_AFTER); their build claims them again.
    """
    now = now or timezone.now()
    directory = export_dir()
    deleted = 0
    expired = list(
        Export.objects.filter(expires_at__lte=now).values_list("pk", "file_path")
    )
    for pk, file_path in expired:
        # The file first: a row without its file is harmless, the reverse not.
        if file_path:
            (directory / Path(file_path).name).unlink(missing_ok=True)
        Export.objects.filter(pk=pk).delete()
        deleted += 1
    # Temporary files of builds that died (nothing writes one for a day).
    temp_removed = 0
    limit = (now - timedelta(days=1)).timestamp()
    for temp in directory.glob(".tmp-*"):
        try:
            if temp.stat().st_mtime < limit:
                temp.unlink()
                temp_removed += 1
        except FileNotFoundError:
            continue
    # Files no row points to any more (a row deleted by hand, a lost rename).
    known = set(
        Export.objects.exclude(file_path="").values_list("file_path", flat=True)
    )
    orphans = 0
    for path in directory.iterdir():
        if (
            path.is_file()
            and not path.name.startswith(".")
            and path.name not in known
            and path.stat().st_mtime < limit
        ):
            path.unlink(missing_ok=True)
            orphans += 1
    return {
        "deleted": deleted,
        "temp_files_removed": temp_removed,
        "orphan_files_removed": orphans,
        "requeued": exports_reclaim(now=now)["requeued"],
    }


def exports_reclaim(*, now: datetime | None = None) -> dict:
    """Queue again the builds that lost their worker or their queue message.

    Every minute from beat (`crm.exports_reclaim`): a running export whose
    heartbeat stopped (its worker was killed) and a pending one whose message
    was lost (pending for more than EXPORT_REQUEUE_AFTER) are queued again;
    their build claims them again (or fails them after MAX_EXPORT_ATTEMPTS),
    so each finishes or fails clearly within minutes.
    """
    now = now or timezone.now()
    failed = fail_overruns(now)
    stale = Export.objects.filter(expires_at__gt=now).filter(
        Q(status=Export.Status.PENDING, created_at__lt=now - EXPORT_REQUEUE_AFTER)
        | lost_worker_q(now)
    )
    requeued = 0
    for pk in stale.values_list("pk", flat=True):
        logger.info("export %s: queued again (lost worker or message)", pk)
        requeued += requests.export_enqueue(export_id=pk)
    return {"requeued": requeued, "failed": failed}
