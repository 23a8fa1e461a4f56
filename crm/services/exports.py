"""Export files built in Celery (DESIGN.md "Statistics and exports", issue 7).

`export_request` validates a request, records an `Export` row and queues
`crm.export_build`; `export_build` (the task) streams the rows of the kind
into a CSV or xlsx file under settings.EXPORT_DIR with progress 0–100;
`export_download` hands the file to its requester (or an org admin of the
export's organisation) and audits it; `exports_cleanup` (daily) deletes
files and rows whose 7 days have passed.

Kinds are providers in a registry: crm registers `consultations`,
`consultation_statistics` and `referrals` below; programs registers
`enrolments` from programs/apps.py (crm never imports programs). A provider
takes the reconstructed Actor, the fiscal year and the params and returns an
`ExportTable`: the columns and an iterator of row tuples, read from the
database in chunks in keyset order, so memory stays constant.

Who may request what:
- row-level kinds (consultations, referrals, enrolments): every member except
  experts, who only log their own support; the rows are those the requester
  may see (visibility rules 3–4: the same selectors as the API);
- consultation_statistics: whoever may see statistics (crm.statistics
  decides and raises 403 otherwise).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Aggregate, F, OuterRef, Q, QuerySet, Subquery, TextField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import Channel, IpType, ReferralStatus, Topic
from crm.export_writers import (
    DATE,
    DATETIME,
    DECIMAL,
    INT,
    TEXT,
    Column,
    WriteResult,
    write_csv,
    write_xlsx,
)
from crm.models import (
    ConsultationIpType,
    ConsultationTopic,
    Export,
    ReferralTopic,
)
from crm.selectors import consultations_visible_to, referral_records_visible_to
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import (
    fiscal_year_bounds,
    fiscal_year_datetime_bounds,
    fiscal_year_label,
    local_date,
)
from support_network.choices import Role
from support_network.errors import (
    Conflict,
    DomainError,
    NotVisible,
    PermissionDenied,
    ValidationFailed,
)
from support_network.selectors import active_memberships

logger = logging.getLogger(__name__)

# Files are kept 7 days, then deleted by the daily clean-up.
EXPORT_TTL = timedelta(days=7)
# Rows fetched per round trip, and how often the progress is written.
CHUNK_SIZE = 5000
PROGRESS_EVERY = 5000
# A requester may have this many exports waiting or running at once.
MAX_ACTIVE_PER_USER = 3
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
# Fiscal years one may ask for.
FIRST_FISCAL_YEAR = 2000

CONTENT_TYPES = {
    ("csv", "utf-8-sig"): "text/csv; charset=utf-8",
    ("csv", "cp932"): "text/csv; charset=Windows-31J",
    ("xlsx", "utf-8-sig"): (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}


class ExportExpired(DomainError):
    """The export's file has expired (410)."""

    status_code = 410
    default_code = "export_expired"


# --- the registry of kinds -------------------------------------------------------


@dataclass(frozen=True)
class ExportTable:
    """What a provider returns: columns, rows (an iterator) and their count."""

    columns: Sequence[Column]
    rows: Iterable[Sequence]
    total: int | None = None
    sheet_title: str = "データ"
    # Without a total: the fraction (0–1) of the export a row stands at.
    position: Callable[[Sequence], float] | None = None


Provider = Callable[..., ExportTable]
Checker = Callable[..., dict]


@dataclass(frozen=True)
class ExportKind:
    """A registered kind: how to build its table and how to check a request."""

    name: str
    label: str
    provider: Provider
    # check(actor=, fiscal_year=, params=) -> cleaned params; raises DomainError.
    check: Checker | None = None
    row_level: bool = True


_KINDS: dict[str, ExportKind] = {}


def export_kind_register(
    name: str,
    provider: Provider,
    *,
    label: str | None = None,
    check: Checker | None = None,
    row_level: bool = True,
) -> None:
    """Register (or replace) the provider of an export kind.

    provider(actor=, fiscal_year=, params=) returns an ExportTable. Other apps
    register theirs from their AppConfig.ready() (crm never imports them).
    """
    if name not in Export.Kind.values:
        raise ValueError(f"unknown export kind {name!r} (see Export.Kind)")
    _KINDS[name] = ExportKind(
        name=name,
        label=label or str(Export.Kind(name).label),
        provider=provider,
        check=check,
        row_level=row_level,
    )


def export_kinds() -> dict[str, ExportKind]:
    """Return the registered kinds by name."""
    return dict(_KINDS)


# --- request -----------------------------------------------------------------------


def _current_fiscal_year(now: datetime) -> int:
    return fiscal_year_of(now)


def _clean_fiscal_year(value, now: datetime) -> int:
    last = _current_fiscal_year(now) + 1
    message = _(
        "年度は %(first)d〜%(last)d の西暦年（4月始まり）で指定してください。"
    ) % {
        "first": FIRST_FISCAL_YEAR,
        "last": last,
    }
    if isinstance(value, bool):
        raise ValidationFailed(message, field="fiscal_year")
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(message, field="fiscal_year") from None
    if not FIRST_FISCAL_YEAR <= year <= last:
        raise ValidationFailed(message, field="fiscal_year")
    return year


def _choice(value, choices, field: str, message: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationFailed(message, field=field)
    return value


def export_request(
    *,
    actor: Actor,
    kind: str,
    fiscal_year,
    format: str,
    encoding: str | None = "utf-8-sig",
    params: dict | None = None,
    now: datetime | None = None,
) -> Export:
    """Record an export request and queue its build (202 in the API).

    Raises ValidationFailed (400, with field) for a bad kind, format,
    encoding, fiscal year or params; PermissionDenied (403) for experts and,
    for statistics, for actors who may not see statistics; Conflict (409)
    when the requester already has MAX_ACTIVE_PER_USER exports under way.
    """
    now = now or timezone.now()
    actor.require_membership()
    registered = export_kinds()
    kind = _choice(
        kind,
        registered,
        "kind",
        _("種類は %(kinds)s のいずれかです。") % {"kinds": ", ".join(registered)},
    )
    format = _choice(
        format,
        Export.Format.values,
        "format",
        _("形式は xlsx または csv です。"),
    )
    encoding = _choice(
        encoding or Export.Encoding.UTF8_BOM,
        Export.Encoding.values,
        "encoding",
        _("文字コードは utf-8-sig（BOM 付き UTF-8）または cp932（Shift_JIS）です。"),
    )
    if format == Export.Format.XLSX:
        encoding = Export.Encoding.UTF8_BOM  # xlsx is always Unicode
    year = _clean_fiscal_year(fiscal_year, now)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValidationFailed(
            _("条件（params）はオブジェクトで指定してください。"), field="params"
        )
    spec = registered[kind]
    if spec.row_level and actor.role == Role.EXPERT and not actor.is_superuser:
        raise PermissionDenied(
            _("専門家の役割ではデータを出力できません。"), code="export_not_allowed"
        )
    # Each kind keeps only the params it understands (row-level kinds: none).
    params = (
        spec.check(actor=actor, fiscal_year=year, params=params)
        if spec.check is not None
        else {}
    )

    with transaction.atomic():
        # One requester's requests queue here (a row lock on their user), so
        # the count below cannot be read by two of them at once: 20 parallel
        # requests used to create 8 exports (issue 26 item 7).
        list(
            get_user_model()
            .objects.select_for_update(no_key=True)
            .filter(pk=actor.user.pk)
            .values_list("pk", flat=True)
        )
        active = Export.objects.filter(
            requested_by_id=actor.user.pk,
            status__in=[Export.Status.PENDING, Export.Status.RUNNING],
            created_at__gte=now - timedelta(hours=1),
        ).count()
        if active >= MAX_ACTIVE_PER_USER:
            raise Conflict(
                _(
                    "作成中のエクスポートが %(n)d 件あります。"
                    "完了してから依頼してください。"
                )
                % {"n": active},
                code="too_many_exports",
            )
        export = Export.objects.create(
            requested_by=actor.user,
            organisation=actor.organisation,
            role=actor.role,
            kind=kind,
            fiscal_year=year,
            format=format,
            encoding=encoding,
            params=params,
            created_at=now,
            expires_at=now + EXPORT_TTL,
        )
        audit_record(
            actor=actor,
            action="export.create",
            obj=export,
            data={
                "kind": kind,
                "fiscal_year": year,
                "format": format,
                "encoding": encoding,
                "params": params,
            },
            now=now,
        )
        transaction.on_commit(lambda: export_enqueue(export_id=export.pk))
    return export


def export_enqueue(*, export_id: int) -> bool:
    """Queue the build of an export; never raise.

    With the broker down the export is marked failed with a message asking to
    try again, instead of waiting for ever.
    """
    from kombu.exceptions import OperationalError

    from crm.tasks import export_build_task

    try:
        export_build_task.apply_async(
            kwargs={"export_id": export_id},
            retry=True,
            retry_policy={"max_retries": 2, "interval_start": 0.2},
        )
    except (OperationalError, OSError) as exc:
        logger.warning("export %s not queued: %s", export_id, exc)
        Export.objects.filter(pk=export_id, status=Export.Status.PENDING).update(
            status=Export.Status.FAILED,
            error=_(
                "作成処理を開始できませんでした。しばらくしてからもう一度依頼してください。"
            ),
            finished_at=timezone.now(),
        )
        return False
    return True


# --- build ---------------------------------------------------------------------------


def export_heartbeat_every() -> float:
    """Seconds between two heartbeats of a build (CRM_EXPORT_HEARTBEAT_SECONDS, 10)."""
    return float(getattr(settings, "CRM_EXPORT_HEARTBEAT_SECONDS", 10))


def export_heartbeat_stale() -> timedelta:
    """How long a silent build is taken for dead (CRM_EXPORT_HEARTBEAT_STALE_SECONDS, 90)."""
    return timedelta(
        seconds=float(getattr(settings, "CRM_EXPORT_HEARTBEAT_STALE_SECONDS", 90))
    )


def _lost_worker_q(now: datetime) -> Q:
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


def export_dir() -> Path:
    """Return settings.EXPORT_DIR, created if missing."""
    path = Path(
        getattr(settings, "EXPORT_DIR", Path(settings.BASE_DIR) / "var/exports")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_file_path(export: Export) -> Path | None:
    """Return the absolute path of the export's file (None before it is built)."""
    if not export.file_path:
        return None
    return export_dir() / Path(export.file_path).name


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


def _fail_overruns(now: datetime, **filters) -> int:
    """Fail the dead builds that had run for the whole hard time limit.

    Celery killed them at EXPORT_TIME_LIMIT (or they died that late): built
    again they would most likely run out of time again, so they fail now
    with the time-limit message rather than after three more half-hours.
    """
    return (
        Export.objects.filter(_lost_worker_q(now), **filters)
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
        .filter(Q(status=Export.Status.PENDING) | _lost_worker_q(now))
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
    _fail_overruns(now, pk=export_id)
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
            fiscal_year=export.fiscal_year,
            progress=progress,
            progress_every=PROGRESS_EVERY,
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


# --- who sees an export, download, clean-up --------------------------------------------


def exports_visible_to(actor: Actor) -> QuerySet[Export]:
    """Return the exports the actor may see and download.

    Its requester (acting through the export's organisation) and the org
    admins of that organisation; superusers all. Anyone else gets a 404.
    """
    qs = Export.objects.select_related("organisation", "requested_by")
    if actor.is_superuser:
        return qs
    if actor.membership is None:
        return qs.none()
    own = Q(organisation_id=actor.organisation_id)
    if actor.role == Role.ORG_ADMIN:
        return qs.filter(own)
    return qs.filter(own, requested_by_id=actor.user.pk)


def exports_requested_by(actor: Actor) -> QuerySet[Export]:
    """Return the actor's own exports for the acting organisation, newest first."""
    if actor.membership is None:
        return Export.objects.filter(requested_by_id=actor.user.pk)
    return Export.objects.filter(
        requested_by_id=actor.user.pk, organisation_id=actor.organisation_id
    )


@dataclass(frozen=True)
class ExportFile:
    """The file of a done export, as the download response needs it."""

    path: Path
    filename: str
    ascii_filename: str
    content_type: str


def export_filenames(export: Export) -> tuple[str, str]:
    """Return (Japanese, ASCII) download names, e.g. 相談記録_2025年度_<org>_20250402.csv."""
    spec = export_kinds().get(export.kind)
    label = spec.label if spec else str(export.get_kind_display())
    day = timezone.localtime(export.created_at).strftime("%Y%m%d")
    code = export.organisation.code
    suffix = "_sjis" if export.encoding == Export.Encoding.CP932 else ""
    return (
        f"{label}_{export.fiscal_year}年度_{code}_{day}{suffix}.{export.format}",
        f"{export.kind}_fy{export.fiscal_year}_{code}_{day}{suffix}.{export.format}",
    )


def export_download(
    *, actor: Actor, export: Export, now: datetime | None = None
) -> ExportFile:
    """Return the file of a done export and audit the download.

    404 for anyone but its requester or an org admin of its organisation;
    410 once it has expired; 409 while it is not done.
    """
    now = now or timezone.now()
    if not exports_visible_to(actor).filter(pk=export.pk).exists():
        raise NotVisible(_("見つかりません。"))
    if export.expires_at <= now:
        raise ExportExpired(
            _("このエクスポートは有効期限（7日）を過ぎたため削除されました。")
        )
    path = export_file_path(export)
    if export.status != Export.Status.DONE or path is None:
        raise Conflict(
            _("エクスポートはまだ完成していません（状態: %(status)s）。")
            % {"status": export.get_status_display()},
            code="export_not_ready",
            status=export.status,
        )
    if not path.exists():
        raise ExportExpired(_("ファイルが見つかりません。もう一度依頼してください。"))
    audit_record(
        actor=actor,
        action="export.download",
        obj=export,
        data={
            "kind": export.kind,
            "fiscal_year": export.fiscal_year,
            "format": export.format,
            "requested_by": export.requested_by_id,
        },
        now=now,
    )
    filename, ascii_filename = export_filenames(export)
    return ExportFile(
        path=path,
        filename=filename,
        ascii_filename=ascii_filename,
        content_type=CONTENT_TYPES[(export.format, export.encoding)],
    )


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
    failed = _fail_overruns(now)
    stale = Export.objects.filter(expires_at__gt=now).filter(
        Q(status=Export.Status.PENDING, created_at__lt=now - EXPORT_REQUEUE_AFTER)
        | _lost_worker_q(now)
    )
    requeued = 0
    for pk in stale.values_list("pk", flat=True):
        logger.info("export %s: queued again (lost worker or message)", pk)
        requeued += export_enqueue(export_id=pk)
    return {"requeued": requeued, "failed": failed}


# --- helpers for providers ---------------------------------------------------------------


def person_name(last: str | None, first: str | None, username: str | None) -> str:
    """Return 姓 名, or the user name when both are empty."""
    name = f"{last or ''} {first or ''}".strip()
    return name or (username or "")


def fiscal_year_position(fiscal_year: int, index: int) -> Callable[[Sequence], float]:
    """Return row → how far into the fiscal year the date at row[index] is (0–1).

    The progress of exports read in date order, without counting the rows.
    """
    start, end = fiscal_year_bounds(fiscal_year)
    days = (end - start).days + 1

    def position(row: Sequence) -> float:
        value = row[index]
        if value is None:
            return 0.0
        return (local_date(value) - start).days / days

    return position


class FiscalYearLabels(dict):
    """fiscal year → "2025年度（令和7年度）", computed once per year."""

    def __missing__(self, year):
        label = fiscal_year_label(year) if year else ""
        self[year] = label
        return label


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices.choices}


# --- kind: consultations ---------------------------------------------------------------

CONSULTATION_COLUMNS = (
    Column("相談ID", INT, 9),
    Column("相談日", DATE, 12),
    Column("年度", TEXT, 22),
    Column("企業等", TEXT, 34),
    Column("法人番号", TEXT, 15),
    Column("都道府県（企業等）", TEXT, 10),
    Column("相談方法", TEXT, 10),
    Column("相談分野", TEXT, 24),
    Column("知財の種類", TEXT, 16),
    Column("所要時間（分）", INT, 10),
    Column("担当組織", TEXT, 30),
    Column("都道府県（担当組織）", TEXT, 10),
    Column("担当者", TEXT, 14),
    Column("案件ID", INT, 9),
    Column("件名", TEXT, 34),
    Column("秘匿", TEXT, 6),
)

_CONSULTATION_FIELDS = (
    "id",
    "occurred_on",
    "company__name",
    "company__corporate_number",
    "company__prefecture__name",
    "channel",
    "duration_minutes",
    "organisation__name",
    "organisation__prefecture__name",
    "author_id",
    "author__last_name",
    "author__first_name",
    "author__username",
    "case_id",
    "case__title",
    "is_confidential",
    "case__is_confidential",
)


class JoinedCodes(Aggregate):
    """The codes of a group joined with commas: string_agg / group_concat.

    Their order is left to the database (no per-row sort); `ChoiceLabels`
    puts them in the order of their choices.
    """

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, ',')"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, function="GROUP_CONCAT", **extra_context
        )


def with_codes(qs: QuerySet, children: Sequence[tuple]) -> tuple[QuerySet, list[str]]:
    """Annotate qs with the comma-joined codes of child tables, one per row.

    children are (model, foreign key to the row, code field); each becomes a
    correlated subquery, so the rows stream from one query with no extra
    round trip (measured in bench/export.py against per-chunk look-ups).
    """
    names = []
    for n, (model, fk, value) in enumerate(children):
        name = f"export_codes_{n}"
        codes = (
            model.objects.filter(**{fk: OuterRef("pk")})
            .order_by()
            .values(fk)
            .annotate(joined=JoinedCodes(value))
            .values("joined")
        )
        qs = qs.annotate(**{name: Subquery(codes)})
        names.append(name)
    return qs, names


class ChoiceLabels:
    """Comma-joined codes → their labels joined with 、, in choices order."""

    def __init__(self, choices) -> None:
        self.labels = {value: str(label) for value, label in choices.choices}
        self.rank = {value: n for n, value in enumerate(self.labels)}
        self.cache: dict[str, str] = {}

    def __call__(self, joined: str | None) -> str:
        if not joined:
            return ""
        text = self.cache.get(joined)
        if text is None:
            codes = sorted(joined.split(","), key=lambda c: self.rank.get(c, 999))
            text = "、".join([self.labels.get(c, c) for c in codes])
            if len(self.cache) < 10_000:
                self.cache[joined] = text
        return text


def consultation_export_queryset(actor: Actor, fiscal_year: int) -> QuerySet:
    """Return the visible consultations of the fiscal year as export values.

    values_list of _CONSULTATION_FIELDS plus the joined topic and IP type
    codes, in keyset order (occurred_at, id). bench/export.py streams the
    same SQL into a bare csv writer as the reference.
    """
    qs = (
        consultations_visible_to(actor)
        .filter(fiscal_year=fiscal_year)
        .order_by("occurred_at", "id")
    )
    qs, codes = with_codes(
        qs,
        (
            (ConsultationTopic, "consultation_id", "topic"),
            (ConsultationIpType, "consultation_id", "ip_type"),
        ),
    )
    return qs.values_list(*_CONSULTATION_FIELDS, *codes)


def consultation_rows(
    qs: QuerySet, fiscal_year: int, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[tuple]:
    """Yield export rows of consultation_export_queryset, streamed."""
    channels = _labels(Channel)
    topics = ChoiceLabels(Topic)
    ip_types = ChoiceLabels(IpType)
    year = fiscal_year_label(fiscal_year)
    names: dict[int, str] = {}
    for (
        pk,
        occurred_on,
        company,
        number,
        company_pref,
        channel,
        minutes,
        organisation,
        org_pref,
        author,
        last,
        first,
        username,
        case_id,
        title,
        confidential,
        case_confidential,
        topic_codes,
        ip_codes,
    ) in qs.iterator(chunk_size=chunk_size):
        name = names.get(author)
        if name is None:
            name = names[author] = person_name(last, first, username)
        yield (
            pk,
            occurred_on,
            year,
            company,
            number,
            company_pref,
            channels.get(channel, channel),
            topics(topic_codes),
            ip_types(ip_codes),
            minutes,
            organisation,
            org_pref,
            name,
            case_id,
            title,
            "○" if confidential or case_confidential else "",
        )


def consultations_export(
    *, actor: Actor, fiscal_year: int, params: dict
) -> ExportTable:
    """Row-level consultations of the fiscal year the actor may see (rules 3–4)."""
    qs = consultation_export_queryset(actor, fiscal_year)
    return ExportTable(
        columns=CONSULTATION_COLUMNS,
        rows=consultation_rows(qs, fiscal_year),
        position=fiscal_year_position(fiscal_year, 1),
        sheet_title=f"相談記録 {fiscal_year}年度",
    )


# --- kind: referrals -------------------------------------------------------------------

REFERRAL_COLUMNS = (
    Column("紹介ID", INT, 9),
    Column("紹介日時", DATETIME, 17),
    Column("年度", TEXT, 22),
    Column("紹介元", TEXT, 30),
    Column("紹介先", TEXT, 30),
    Column("企業等", TEXT, 34),
    Column("法人番号", TEXT, 15),
    Column("都道府県（企業等）", TEXT, 10),
    Column("分野", TEXT, 24),
    Column("状態", TEXT, 18),
    Column("回答期限", DATE, 12),
    Column("回答日時", DATETIME, 17),
    Column("回答までの営業日数", INT, 10),
    Column("完了日時", DATETIME, 17),
    Column("取消・期限切れ日時", DATETIME, 17),
    Column("案件ID", INT, 9),
)

_REFERRAL_FIELDS = (
    "id",
    "sent_at",
    "from_organisation__name",
    "to_organisation__name",
    "case__company__name",
    "case__company__corporate_number",
    "case__company__prefecture__name",
    "status",
    "respond_by",
    "answered_at",
    "answer_business_days",
    "completed_at",
    "closed_at",
    "case_id",
)


def referral_export_queryset(actor: Actor, fiscal_year: int) -> QuerySet:
    """Return the visible referrals sent in the fiscal year (JST) as export values."""
    start, end = fiscal_year_datetime_bounds(fiscal_year)
    qs = (
        referral_records_visible_to(actor)
        .filter(sent_at__gte=start, sent_at__lt=end)
        .order_by("sent_at", "id")
    )
    qs, codes = with_codes(qs, ((ReferralTopic, "referral_id", "topic"),))
    return qs.values_list(*_REFERRAL_FIELDS, *codes)


def referral_rows(qs: QuerySet, fiscal_year: int) -> Iterator[tuple]:
    """Yield export rows of referral_export_queryset, streamed."""
    statuses = _labels(ReferralStatus)
    topics = ChoiceLabels(Topic)
    year = fiscal_year_label(fiscal_year)
    for (
        pk,
        sent_at,
        sender,
        receiver,
        company,
        number,
        company_pref,
        status,
        respond_by,
        answered_at,
        business_days,
        completed_at,
        closed_at,
        case_id,
        topic_codes,
    ) in qs.iterator(chunk_size=CHUNK_SIZE):
        yield (
            pk,
            sent_at,
            year,
            sender,
            receiver,
            company,
            number,
            company_pref,
            topics(topic_codes),
            statuses.get(status, status),
            respond_by,
            answered_at,
            business_days,
            completed_at,
            closed_at,
            case_id,
        )


def referrals_export(*, actor: Actor, fiscal_year: int, params: dict) -> ExportTable:
    """Referral rows the actor may see as a party or through the case."""
    qs = referral_export_queryset(actor, fiscal_year)
    return ExportTable(
        columns=REFERRAL_COLUMNS,
        rows=referral_rows(qs, fiscal_year),
        position=fiscal_year_position(fiscal_year, 1),
        sheet_title=f"紹介 {fiscal_year}年度",
    )


# --- kind: consultation statistics -------------------------------------------------------

DIMENSION_HEADERS = {
    "fiscal_year": "年度",
    "month": "月",
    "prefecture": "都道府県（対応組織）",
    "company_prefecture": "都道府県（企業等）",
    "region": "地域（経済産業局）",
    "organisation": "組織",
    "organisation_kind": "組織の種別",
    "channel": "相談方法",
    "topic": "相談分野",
    "ip_type": "知財の種類",
    "size_class": "企業規模",
    "industry": "業種（日本標準産業分類）",
    "program": "支援事業",
    "is_startup": "スタートアップ",
}
MEASURE_HEADERS = {
    "consultations": "相談件数",
    "companies": "企業数",
    "new_companies": "新規企業数",
    "minutes": "相談時間（分）",
    "yorozu_links": "よろず連携件数",
    "first_filers": "初めて出願した中小企業数",
}
# Outcome KPIs (crm.statistics.outcome_kpis) written under the 合計 row.
OUTCOME_KPI_HEADERS = {
    "filings_after_consultation": "（成果）相談後の出願件数",
    "licences": "（成果）相談後のライセンス契約件数",
    "financings": "（成果）相談後の資金調達件数",
    "funds_raised_yen": "（成果）相談後の資金調達額（円）",
}
DEFAULT_GROUP_BY = ["prefecture", "topic"]


def _statistics_params(params: dict) -> dict:
    """Return the statistics arguments of params, validated (400 with field)."""
    from crm import statistics

    group_by = params.get("group_by")
    group_by = statistics.parse_group_by(
        DEFAULT_GROUP_BY if group_by in (None, "", []) else group_by,
        statistics.CONSULTATION_DIMENSIONS,
    )
    filters = params.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise ValidationFailed(
            _("絞り込み条件（filters）はオブジェクトで指定してください。"),
            field="filters",
        )
    measures = params.get("measures") or []
    if isinstance(measures, str):
        measures = [m.strip() for m in measures.split(",") if m.strip()]
    if not isinstance(measures, list) or any(
        m not in statistics.OPTIONAL_CONSULTATION_MEASURES for m in measures
    ):
        raise ValidationFailed(
            _("追加の指標（measures）は %(m)s から選んでください。")
            % {"m": ", ".join(statistics.OPTIONAL_CONSULTATION_MEASURES)},
            field="measures",
        )
    cleaned = {
        "group_by": group_by,
        "filters": statistics.parse_filters(
            filters, statistics.CONSULTATION_DIMENSIONS
        ),
        "measures": measures,
    }
    scope = params.get("scope")
    if scope not in (None, ""):
        cleaned["scope"] = scope
    return cleaned


def consultation_statistics_check(
    *, actor: Actor, fiscal_year: int, params: dict
) -> dict:
    """Validate params and refuse (403) actors without statistics, at request time."""
    from crm import statistics

    cleaned = _statistics_params(params)
    statistics.statistics_reach(actor, scope=cleaned.get("scope"))
    return cleaned


def consultation_statistics_export(
    *, actor: Actor, fiscal_year: int, params: dict
) -> ExportTable:
    """The rows of crm.statistics.consultation_statistics, with a 合計 row."""
    from crm import statistics

    args = _statistics_params(params)
    result = statistics.consultation_statistics(
        actor=actor,
        fiscal_year=fiscal_year,
        group_by=args["group_by"],
        filters=args["filters"] or None,
        measures=args["measures"],
        scope=args.get("scope"),
    )
    group_by = list(result.get("group_by") or args["group_by"])
    rows = result.get("rows") or []
    totals = result.get("totals") or {}
    measures = [*statistics.CONSULTATION_MEASURES, *args["measures"]]
    columns = [Column(DIMENSION_HEADERS.get(d, d), TEXT, 24) for d in group_by]
    columns += [Column(MEASURE_HEADERS.get(m, m), INT, 12) for m in measures]

    def label(row: dict, dim: str):
        value = row.get(f"{dim}_label")
        if value in (None, ""):
            value = row.get(dim)
        return "" if value is None else str(value)

    def generate():
        for row in rows:
            yield (
                *(label(row, d) for d in group_by),
                *(row.get(m) for m in measures),
            )
        head = ("合計", *([""] * (len(group_by) - 1))) if group_by else ()
        yield (*head, *(totals.get(m) for m in measures))
        # The outcome KPIs of the same year and reach: a label in the first
        # column, the figure in the first measure column (issue 16 item 7).
        if group_by:
            for name, header in OUTCOME_KPI_HEADERS.items():
                blanks = [""] * (len(group_by) - 1)
                yield (header, *blanks, kpis[name], *([None] * (len(measures) - 1)))

    kpis = statistics.outcome_kpis(
        actor=actor, fiscal_year=fiscal_year, scope=args.get("scope")
    )
    scope = (result.get("scope") or {}).get("label") or ""
    title = f"相談統計 {fiscal_year}年度"
    return ExportTable(
        columns=columns,
        rows=generate(),
        total=len(rows) + 1 + (len(OUTCOME_KPI_HEADERS) if group_by else 0),
        sheet_title=f"{title} {scope}".strip(),
    )


export_kind_register("consultations", consultations_export)
export_kind_register("referrals", referrals_export)
export_kind_register(
    "consultation_statistics",
    consultation_statistics_export,
    check=consultation_statistics_check,
    row_level=False,
)

__all__ = [
    "DATE",
    "DATETIME",
    "DECIMAL",
    "INT",
    "TEXT",
    "Column",
    "ExportExpired",
    "ExportFile",
    "ExportKind",
    "ExportTable",
    "export_build",
    "export_download",
    "export_enqueue",
    "export_kind_register",
    "export_kinds",
    "export_request",
    "exports_cleanup",
    "exports_requested_by",
    "exports_visible_to",
]
