"""Web pages of personal data over time (APPI), for org admins.

- the company page's contact rows link here: 「開示請求への対応（データを書き出す）」
  (a confirmation page, then the export's progress and download) and
  「利用停止・消去」 (a confirmation page with the request's reason);
- 個人情報の管理: the retention policy (保存期間) form and the
  個人情報ファイル簿 draft, shown and downloadable (CSV / xlsx).

Thin adapters over crm/services/personal_requests.py, crm/services/retention.py
and crm/selectors/personal_data.py; refusals come from the same checks as
the API (DomainErrorPageMiddleware renders them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
)

from crm import permissions
from crm.exports.file_book import FILE_BOOK_FORMATS, file_book_write
from crm.selectors.exports import exports_visible_to
from crm.selectors.personal_data import personal_data_file_book
from crm.selectors.visibility import cases_visible_to, contacts_visible_to
from crm.services import personal_requests
from crm.services.audit import audit_record
from crm.services.retention import (
    case_legal_hold_set,
    retention_policy_get,
    retention_policy_update,
)
from support_network.errors import DomainError
from support_network.web.actors import web_actor


def _contact(actor, pk: int):
    return get_object_or_404(
        contacts_visible_to(actor).select_related("company", "organisation"), pk=pk
    )


def _company_url(contact) -> str:
    return reverse("crm:company-detail", args=[contact.company_id]) + "#contacts"


@login_required
@require_http_methods(["GET", "POST"])
def contact_disclosure(request, pk: int):
    """Confirm, then start the disclosure package (開示請求への対応)."""
    actor = web_actor(request)
    contact = _contact(actor, pk)
    permissions.contact_require_disclosable(actor, contact)
    if request.method == "POST":
        export = personal_requests.contact_disclosure_request(
            actor=actor, contact=contact
        )
        return redirect(
            "crm:contact-disclosure-status", pk=contact.pk, export=export.pk
        )
    return render(
        request,
        "crm/personal_data/disclosure_confirm.html",
        {"contact": contact, "company": contact.company},
    )


@login_required
@require_GET
def contact_disclosure_status(request, pk: int, export: int):
    """Show the package's progress and, once built, its download link."""
    actor = web_actor(request)
    contact = _contact(actor, pk)
    item = get_object_or_404(
        exports_visible_to(actor).filter(kind="disclosure"), pk=export
    )
    return render(
        request,
        "crm/personal_data/disclosure_status.html",
        {
            "contact": contact,
            "company": contact.company,
            "export": item,
            "download_url": (
                reverse("crm:statistics-export-download", args=[item.pk])
                if item.status == item.Status.DONE
                else ""
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def contact_erase(request, pk: int):
    """Confirm with the request's reason, then stop use of and erase (利用停止・消去)."""
    actor = web_actor(request)
    contact = _contact(actor, pk)
    permissions.contact_require_erasable(actor, contact)
    error = ""
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            personal_requests.contact_erase(actor=actor, contact=contact, reason=reason)
        except DomainError as exc:
            if exc.status_code != 400:
                raise
            error = exc.detail
        else:
            messages.success(
                request,
                _(
                    "担当者の個人データを消去しました。第三者提供記録は法定の期間"
                    "（3年）保存され、その後自動で削除されます。"
                ),
            )
            return redirect(_company_url(contact))
    return render(
        request,
        "crm/personal_data/erase_confirm.html",
        {
            "contact": contact,
            "company": contact.company,
            "error": error,
            "reason": reason,
        },
        status=400 if error else 200,
    )


def _require_org_admin(actor) -> None:
    permissions.org_admin_require(actor, _("このページは組織管理者だけが利用できます。"))


@login_required
@require_http_methods(["GET", "POST"])
def personal_data_page(request):
    """The retention policy form and the 個人情報ファイル簿 draft (org admins)."""
    actor = web_actor(request)
    _require_org_admin(actor)
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw = request.POST.get("years_after_close", "").strip()
        years = int(raw) if raw.isdigit() else -1
        try:
            retention_policy_update(
                actor=actor,
                years_after_close=years,
                is_active=request.POST.get("is_active") == "on",
            )
        except DomainError as exc:
            if exc.status_code != 400:
                raise
            errors[getattr(exc, "field", None) or "years_after_close"] = exc.detail
        else:
            messages.success(request, _("保存期間を保存しました。"))
            return redirect("crm:personal-data")
    return render(
        request,
        "crm/personal_data/page.html",
        {
            "policy": retention_policy_get(actor.organisation),
            "errors": errors,
            "file_book": personal_data_file_book(),
            "formats": FILE_BOOK_FORMATS,
        },
        status=400 if errors else 200,
    )


@login_required
@require_GET
def file_book_download(request, format: str):
    """Download the 個人情報ファイル簿 draft as CSV or xlsx (audited)."""
    actor = web_actor(request)
    _require_org_admin(actor)
    if format not in FILE_BOOK_FORMATS:
        raise Http404(_("見つかりません。"))
    handle = tempfile.NamedTemporaryFile(suffix=f".{format}", delete=False)  # noqa: SIM115
    handle.close()
    path = Path(handle.name)
    file_book_write(path, format)
    audit_record(actor=actor, action="file_book.download", data={"format": format})
    day = timezone.localdate().strftime("%Y%m%d")
    content_type = (
        "text/csv; charset=utf-8"
        if format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stream = path.open("rb")
    path.unlink()  # the open handle keeps the data until the response is sent
    return FileResponse(
        stream,
        as_attachment=True,
        filename=f"個人情報ファイル簿_{actor.organisation.code}_{day}.{format}",
        content_type=content_type,
    )


@login_required
@require_POST
def case_legal_hold(request, pk: int):
    """Set or lift a case's legal hold (法的保全) from the case page."""
    actor = web_actor(request)
    case = get_object_or_404(cases_visible_to(actor), pk=pk)
    on = request.POST.get("on") == "on"
    try:
        case_legal_hold_set(
            actor=actor, case=case, on=on, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        if exc.status_code != 400:
            raise
        messages.error(request, exc.detail)
    else:
        messages.success(
            request,
            _("法的保全を設定しました。") if on else _("法的保全を解除しました。"),
        )
    return redirect(reverse("crm:case-detail", args=[case.pk]) + "#legal-hold")
