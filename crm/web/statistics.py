"""Managers' page `/statistics/`: KPI tiles, charts and tables, exports.

An adapter like the other pages of crm/web/: every figure comes from
crm/statistics/dashboard.py (the statistics functions, and programs'
provider for enrolments), scoped by the caller's reach; exports go through
crm/exports/. The charts
are drawn by static/js/statistics.js (vendored Chart.js) from the JSON that
`json_script` embeds, and every chart has a table with the same numbers
under it, so the page reads without JavaScript and with a screen reader.

Who sees what: managers, org admins and coordinators their reach (their
organisation, a hub's region, or the nation) or, on request, their own
organisation; window staff their own organisation; experts a 403 page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.exports.files import export_download
from crm.exports.kinds import export_kinds
from crm.exports.requests import export_request
from crm.models import Export
from crm.selectors.exports import exports_visible_to
from crm.statistics.dashboard import statistics_dashboard
from crm.statistics.reach import statistics_reach
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label, fiscal_year_parse
from support_network.errors import DomainError, PermissionDenied, ValidationFailed
from support_network.web.actors import web_actor

# How many fiscal years the year picker offers (this one and the ones before).
FISCAL_YEAR_CHOICES = 6
SCOPES = ("reach", "organisation")


# --- views ------------------------------------------------------------------------------


def _no_access(request, message: str):
    return render(
        request, "crm/statistics/no_access.html", {"message": message}, status=403
    )


def _requested_fiscal_year(value: str | None) -> int | None:
    """Return the fiscal year asked for (the current one by default; None if bad).

    The page does not refuse a bad year: it shows the current one with a
    warning, so a stale bookmark still opens.
    """
    try:
        return fiscal_year_parse(value)
    except ValidationFailed:
        return None


def _page_url(fiscal_year: int, scope: str, **extra: Any) -> str:
    query = {"fiscal_year": fiscal_year, "scope": scope, **extra}
    return reverse("crm:statistics") + "?" + urlencode(query)


@login_required
@require_GET
def statistics_page(request):
    """Managers' page: pick a fiscal year and scope; KPIs, charts, tables, export."""
    try:
        actor = web_actor(request)
        reach = statistics_reach(actor)
    except PermissionDenied as exc:
        return _no_access(request, exc.detail)
    except DomainError as exc:
        return render(request, "crm/no_membership.html", {"message": exc.detail})
    current = fiscal_year_of(timezone.now())
    fy = _requested_fiscal_year(request.GET.get("fiscal_year"))
    if fy is None:
        messages.warning(
            request, _("年度の指定が正しくないため、今年度を表示しています。")
        )
        fy = current
    scope = request.GET.get("scope") or "reach"
    if scope not in SCOPES or reach.level == "organisation":
        scope = "reach"
    dashboard = statistics_dashboard(actor, fiscal_year=fy, scope=scope)
    years = sorted(
        {fy, *range(current, current - FISCAL_YEAR_CHOICES, -1)}, reverse=True
    )
    export = None
    export_id = request.GET.get("export", "")
    if export_id.isdigit():
        export = exports_visible_to(actor).filter(pk=int(export_id)).first()
    kinds = export_kinds()
    return render(
        request,
        "crm/statistics/page.html",
        {
            "dashboard": dashboard,
            "charts": dashboard.charts(),
            "fiscal_years": [(y, fiscal_year_label(y)) for y in years],
            "can_narrow": reach.level != "organisation",
            "reach_label": reach.label,
            "own_label": actor.organisation.name if actor.organisation else "",
            "export_kinds": [
                (value, label) for value, label in Export.Kind.choices if value in kinds
            ],
            "export_formats": Export.Format.choices,
            "export_encodings": Export.Encoding.choices,
            "export": export and _export_json(export),
        },
    )


def _export_json(export: Export) -> dict[str, Any]:
    """Return what the progress bar needs to know about an export."""
    done = export.status == Export.Status.DONE
    return {
        "id": export.pk,
        "kind": export.kind,
        "kind_label": export.get_kind_display(),
        "status": export.status,
        "status_label": export.get_status_display(),
        "progress": 100 if done else export.progress,
        "row_count": export.row_count,
        "replaced_char_count": export.replaced_char_count,
        "error": export.error,
        "status_url": reverse("crm:statistics-export-status", args=[export.pk]),
        "download_url": (
            reverse("crm:statistics-export-download", args=[export.pk])
            if done
            else None
        ),
    }


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_POST
def statistics_export_start(request):
    """Request an export of the page's fiscal year and scope (202 JSON or redirect).

    The page's script posts with Accept: application/json and polls the
    status URL; without JavaScript the form redirects back to the page,
    which shows the export's state and its link.
    """
    data = request.POST
    fy = data.get("fiscal_year", "")
    scope = data.get("scope") or "reach"
    try:
        actor = web_actor(request)
        export = export_request(
            actor=actor,
            kind=data.get("kind", ""),
            fiscal_year=fy,
            format=data.get("format", ""),
            encoding=data.get("encoding") or None,
            params={"scope": scope} if scope in SCOPES else {},
        )
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse(
                {"detail": exc.detail, "code": exc.code, "field": exc.field},
                status=exc.status_code,
            )
        messages.error(request, exc.detail)
        return redirect(
            _page_url(
                _requested_fiscal_year(fy) or fiscal_year_of(timezone.now()), scope
            )
        )
    if _wants_json(request):
        return JsonResponse(_export_json(export), status=202)
    return redirect(_page_url(export.fiscal_year, scope, export=export.pk))


@login_required
@require_GET
def statistics_export_status(request, pk: int):
    """Return an export's status and progress as JSON (404 unless one's own)."""
    try:
        actor = web_actor(request)
    except DomainError as exc:
        return JsonResponse({"detail": exc.detail}, status=exc.status_code)
    export = get_object_or_404(exports_visible_to(actor), pk=pk)
    return JsonResponse(_export_json(export))


@login_required
@require_GET
def statistics_export_download(request, pk: int):
    """Send a done export's file (audited by the exports service)."""
    try:
        actor = web_actor(request)
    except DomainError as exc:
        raise Http404(exc.detail) from exc
    export = get_object_or_404(exports_visible_to(actor), pk=pk)
    try:
        file = export_download(actor=actor, export=export)
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404(exc.detail) from exc
        messages.error(request, exc.detail)
        return redirect(_page_url(export.fiscal_year, "reach"))
    return FileResponse(
        file.path.open("rb"),
        as_attachment=True,
        filename=file.filename,
        content_type=file.content_type,
    )
