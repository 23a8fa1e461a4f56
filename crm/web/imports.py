"""The imports page `/imports/`: upload, map columns, read the report, commit, undo.

An adapter over crm/services/imports.py, for coordinators, managers and org
admins (others get the 403 page): the upload stores the file and the dry
run runs in Celery; the page shows its report (valid rows, each error by
line and field, companies matched or new, likely duplicates), a mapping
form for the columns it did not recognise, then the commit with a progress
bar (static/js/imports.js polls `imports/<id>/status/`) and the undo.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.models import Import
from crm.permissions import can_import
from crm.rules.import_values import IMPORT_FIELDS
from crm.selectors.imports import imports_visible_to
from crm.services.import_files import (
    IMPORT_MAX_BYTES,
    IMPORT_MAX_ROWS,
    file_size_check,
)
from crm.services.import_rows import REQUIRED_FIELDS, field_labels
from crm.services.imports import (
    import_commit_request,
    import_remap,
    import_undo,
    import_upload,
)
from support_network.errors import DomainError
from support_network.web.actors import web_actor

# How many imports the page lists.
LIST_LIMIT = 20


def _no_access(request):
    return render(
        request,
        "crm/statistics/no_access.html",
        {
            "message": _(
                "相談記録の取込は、コーディネーター・管理者・組織管理者のみが行えます。"
            )
        },
        status=403,
    )


def _actor_or_none(request):
    try:
        actor = web_actor(request)
    except DomainError:
        return None
    return actor if can_import(actor) else None


@login_required
def import_list(request):
    """List the organisation's imports and take a new file."""
    actor = _actor_or_none(request)
    if actor is None:
        return _no_access(request)
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("ファイルを選んでください。")
        else:
            try:
                file_size_check(upload.size)
                imp = import_upload(
                    actor=actor, file_name=upload.name, content=upload.read()
                )
            except DomainError as exc:
                error = exc.detail
            else:
                return redirect("crm:import-detail", pk=imp.pk)
    imports = imports_visible_to(actor).select_related("requested_by")[:LIST_LIMIT]
    return render(
        request,
        "crm/imports/list.html",
        {
            "imports": imports,
            "error": error,
            "max_mb": IMPORT_MAX_BYTES // (1024 * 1024),
            "max_rows": IMPORT_MAX_ROWS,
            "labels": field_labels(),
            "required": REQUIRED_FIELDS,
        },
        status=400 if error else 200,
    )


def _mapping_rows(imp: Import) -> list[tuple[int, str, str]]:
    """Return (index, header, field): unrecognised columns first, then by field.

    The index names the form field; the stored mapping (a JSON object, whose
    key order the database does not keep) is the one the form posts back.
    """
    order = {name: i for i, name in enumerate(IMPORT_FIELDS)}
    rows = [(i, h, f) for i, (h, f) in enumerate(sorted(imp.mapping.items()))]
    return sorted(rows, key=lambda r: (bool(r[2]), order.get(r[2], 0), r[1]))


def _status(imp: Import) -> dict:
    return {
        "status": imp.status,
        "status_label": imp.get_status_display(),
        "progress": 100 if imp.status == Import.Status.COMMITTED else imp.progress,
        "processed_rows": imp.processed_rows,
        "rows": imp.rows,
    }


@login_required
@require_GET
def import_detail(request, pk: int):
    """Show an import's report, mapping form, progress and actions."""
    actor = _actor_or_none(request)
    if actor is None:
        return _no_access(request)
    imp = get_object_or_404(imports_visible_to(actor), pk=pk)
    labels = field_labels()
    errors = [
        {
            **e,
            "label": labels.get(
                e["field"], _("ファイル") if e["field"] == "file" else e["field"]
            ),
        }
        for e in imp.errors
    ]
    return render(
        request,
        "crm/imports/detail.html",
        {
            "imp": imp,
            "errors": errors,
            "labels": labels,
            "field_choices": [(f, labels[f]) for f in IMPORT_FIELDS],
            "mapping_rows": _mapping_rows(imp),
            "needs_mapping": bool(imp.unknown_headers)
            or any(e["line"] == 1 for e in imp.errors),
            "status_json": json.dumps(_status(imp)),
            "is_running": imp.status
            in (Import.Status.VALIDATING, Import.Status.COMMITTING),
            "new_companies": [c for c in imp.companies if c["match"] == "new"],
            "matched_companies": [c for c in imp.companies if c["match"] != "new"],
        },
    )


@login_required
@require_GET
def import_status(request, pk: int):
    """Return an import's status and progress as JSON (the progress bar polls it)."""
    actor = _actor_or_none(request)
    if actor is None:
        return JsonResponse({"detail": _("権限がありません。")}, status=403)
    imp = get_object_or_404(imports_visible_to(actor), pk=pk)
    return JsonResponse(_status(imp))


def _act(request, pk: int, action) -> object:
    actor = _actor_or_none(request)
    if actor is None:
        return _no_access(request)
    imp = get_object_or_404(imports_visible_to(actor), pk=pk)
    try:
        message = action(actor, imp)
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, message)
    return redirect("crm:import-detail", pk=imp.pk)


@login_required
@require_POST
def import_mapping(request, pk: int):
    """Check the file again with the columns mapped as chosen."""

    def remap(actor, imp):
        mapping = {
            header: request.POST.get(f"map-{i}", "")
            for i, header, _field in _mapping_rows(imp)
        }
        import_remap(actor=actor, imp=imp, mapping=mapping)
        return _("列の対応を保存し、もう一度確認しています。")

    return _act(request, pk, remap)


@login_required
@require_POST
def import_commit(request, pk: int):
    """Start writing the valid rows."""

    def commit(actor, imp):
        import_commit_request(actor=actor, imp=imp)
        return _("取込を開始しました。")

    return _act(request, pk, commit)


@login_required
@require_POST
def import_undo_view(request, pk: int):
    """Remove everything the import created."""

    def undo(actor, imp):
        import_undo(actor=actor, imp=imp)
        return _("取込を取り消しました。作成した記録はすべて削除されました。")

    return _act(request, pk, undo)
