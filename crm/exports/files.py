"""Export files: where they live, what they are called, and their download.

`export_download` hands a done export's file to its requester (or an org
admin of the export's organisation) and audits it; 410 once expired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exports.kinds import export_kinds
from crm.models import (
    Export,
)
from crm.selectors.exports import exports_visible_to
from crm.services.audit import audit_record
from support_network.actors import Actor
from support_network.errors import (
    Conflict,
    DomainError,
    NotVisible,
)

CONTENT_TYPES = {
    ("csv", "utf-8-sig"): "text/csv; charset=utf-8",
    ("csv", "cp932"): "text/csv; charset=Windows-31J",
    ("zip", "utf-8-sig"): "application/zip",
    ("xlsx", "utf-8-sig"): (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}


class ExportExpired(DomainError):
    """The export's file has expired (410)."""

    status_code = 410
    default_code = "export_expired"


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
