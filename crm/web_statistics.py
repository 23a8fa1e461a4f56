"""Managers' page `/statistics/`: KPI tiles, charts and tables, exports.

An adapter like crm/web.py: every figure comes from the statistics service
(crm/statistics.py, and programs/statistics.py for enrolments), scoped by
the caller's reach; exports go through crm/services/exports.py. The charts
are drawn by static/js/statistics.js (vendored Chart.js) from the JSON that
`json_script` embeds, and every chart has a table with the same numbers
under it, so the page reads without JavaScript and with a screen reader.

Who sees what: managers, org admins and coordinators their reach (their
organisation, a hub's region, or the nation) or, on request, their own
organisation; window staff their own organisation; experts a 403 page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from crm import statistics
from crm.choices import ReferralStatus
from crm.models import Export
from crm.services.exports import (
    export_download,
    export_kinds,
    export_request,
    exports_visible_to,
)
from support_network.actors import Actor
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.calendar import fiscal_year_label
from support_network.errors import DomainError, PermissionDenied
from support_network.web.actors import web_actor

# How many fiscal years the year picker offers (this one and the ones before).
FISCAL_YEAR_CHOICES = 6
FIRST_FISCAL_YEAR = 2000
SCOPES = ("reach", "organisation")


@dataclass
class Section:
    """One chart and the table under it (the same numbers)."""

    key: str
    title: str
    chart: dict[str, Any]
    headers: list[str]
    rows: list[list[Any]]
    totals: list[Any] | None = None
    note: str = ""

    def display_rows(self) -> list[list[str]]:
        """Return the table rows as shown: numbers with thousands separators."""
        return [[_display(cell) for cell in row] for row in self.rows]

    def display_totals(self) -> list[str] | None:
        return [_display(cell) for cell in self.totals] if self.totals else None


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


@dataclass
class Dashboard:
    """Everything the page shows for one fiscal year and scope."""

    fiscal_year: int
    fiscal_year_label: str
    scope: str
    scope_label: str
    kpis: list[dict[str, Any]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def charts(self) -> dict[str, Any]:
        """Return the JSON the charts are drawn from, by section key."""
        return {s.key: s.chart for s in self.sections}


# --- figures ------------------------------------------------------------------------


def _fiscal_year_months(fy: int) -> list[tuple[str, str]]:
    """Return (code "YYYY-MM", label) of the twelve months of a fiscal year."""
    months = [(fy, m) for m in range(4, 13)] + [(fy + 1, m) for m in range(1, 4)]
    return [
        (f"{y:04d}-{m:02d}", _("%(y)d年%(m)d月") % {"y": y, "m": m}) for y, m in months
    ]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _days(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:g}"


def _month_section(
    actor: Actor, fy: int, scope: str | None
) -> tuple[Section, dict[str, Any]]:
    result = statistics.consultation_statistics(
        actor=actor,
        fiscal_year=fy,
        group_by=["month"],
        measures=["yorozu_links"],
        scope=scope,
    )
    by_month = {row["month"]: row for row in result["rows"]}
    labels, consultations, companies, rows = [], [], [], []
    for code, label in _fiscal_year_months(fy):
        row = by_month.get(code, {})
        values = [
            row.get("consultations", 0),
            row.get("companies", 0),
            row.get("new_companies", 0),
            row.get("yorozu_links", 0),
        ]
        labels.append(label)
        consultations.append(values[0])
        companies.append(values[1])
        rows.append([label, *values])
    totals = result["totals"]
    return Section(
        key="month",
        title=_("月別の相談件数"),
        chart={
            "type": "bar",
            "labels": labels,
            "datasets": [
                {"label": _("相談件数"), "data": consultations},
                {"label": _("企業数"), "data": companies, "type": "line"},
            ],
        },
        headers=[
            _("月"),
            _("相談件数"),
            _("企業数"),
            _("新規企業数"),
            _("よろず連携件数"),
        ],
        rows=rows,
        totals=[
            _("年度計"),
            totals["consultations"],
            totals["companies"],
            totals["new_companies"],
            totals["yorozu_links"],
        ],
        note=_(
            "企業数は月ごとの実数です（年度計は年度内の実数なので、月の合計とは一致しません）。"
        ),
    ), totals


def _prefecture_section(actor: Actor, fy: int, scope: str | None) -> Section:
    result = statistics.consultation_statistics(
        actor=actor, fiscal_year=fy, group_by=["prefecture"], scope=scope
    )
    rows = [
        [r["prefecture_label"], r["consultations"], r["companies"]]
        for r in result["rows"]
    ]
    return Section(
        key="prefecture",
        title=_("都道府県別の相談件数（対応した組織の所在地）"),
        chart={
            "type": "bar",
            "horizontal": True,
            "labels": [r[0] for r in rows],
            "datasets": [{"label": _("相談件数"), "data": [r[1] for r in rows]}],
        },
        headers=[_("都道府県"), _("相談件数"), _("企業数")],
        rows=rows,
    )


def _startup_section(
    actor: Actor, fy: int, scope: str | None
) -> tuple[Section, dict[str, Any]]:
    """Consultations of startups and of other companies, with first filers."""
    result = statistics.consultation_statistics(
        actor=actor,
        fiscal_year=fy,
        group_by=["is_startup"],
        measures=["first_filers"],
        scope=scope,
    )
    by_value = {row["is_startup"]: row for row in result["rows"]}
    rows = []
    for value, label in ((True, _("スタートアップ")), (False, _("スタートアップ以外"))):
        row = by_value.get(value, {})
        rows.append(
            [
                label,
                row.get("consultations", 0),
                row.get("companies", 0),
                row.get("first_filers", 0),
            ]
        )
    totals = result["totals"]
    return Section(
        key="startup",
        title=_("スタートアップ別の相談件数"),
        chart={
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [{"label": _("相談件数"), "data": [r[1] for r in rows]}],
        },
        headers=[
            _("区分"),
            _("相談件数"),
            _("企業数"),
            _("初めて出願した中小企業数"),
        ],
        rows=rows,
        totals=[
            _("年度計"),
            totals["consultations"],
            totals["companies"],
            totals["first_filers"],
        ],
        note=_(
            "スタートアップは相談日時点の特許庁の定義（設立10年未満で大企業の支配下になく、"
            "従業員20人以下（商業・サービス業は5人以下）または資本金3億円以下）です。"
        ),
    ), totals


def _topic_section(actor: Actor, fy: int, scope: str | None) -> Section:
    result = statistics.consultation_statistics(
        actor=actor, fiscal_year=fy, group_by=["topic"], scope=scope
    )
    ordered = sorted(
        result["rows"], key=lambda r: (-r["consultations"], r["topic"] or "")
    )
    rows = [[r["topic_label"], r["consultations"], r["companies"]] for r in ordered]
    return Section(
        key="topic",
        title=_("相談分野別の相談件数"),
        chart={
            "type": "bar",
            "horizontal": True,
            "labels": [r[0] for r in rows],
            "datasets": [{"label": _("相談件数"), "data": [r[1] for r in rows]}],
        },
        headers=[_("相談分野"), _("相談件数"), _("企業数")],
        rows=rows,
        note=_("複数の分野にまたがる相談は、それぞれの分野に1件ずつ数えます。"),
    )


# Funnel stages: (label, statuses counted, bar colour).
_FUNNEL = (
    (gettext_lazy("紹介（送付）"), None, "#1f5fbf"),
    (
        gettext_lazy("受入"),
        (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED),
        "#2e8b57",
    ),
    (gettext_lazy("完了"), (ReferralStatus.COMPLETED,), "#1b5e20"),
    (gettext_lazy("回答待ち"), (ReferralStatus.SENT,), "#9aa5b1"),
    (gettext_lazy("辞退"), (ReferralStatus.DECLINED,), "#c62828"),
    (gettext_lazy("期限切れ"), (ReferralStatus.EXPIRED,), "#ef6c00"),
    (gettext_lazy("取消"), (ReferralStatus.CANCELLED,), "#6d4c41"),
)


def _referral_section(
    actor: Actor, fy: int, scope: str | None
) -> tuple[Section, dict[str, Any]]:
    result = statistics.referral_statistics(actor=actor, fiscal_year=fy, scope=scope)
    totals = result["totals"]
    rows = []
    for label, statuses, _colour in _FUNNEL:
        count = (
            totals["referrals"]
            if statuses is None
            else sum(totals[s.value] for s in statuses)
        )
        rows.append([str(label), count])
    section = Section(
        key="referrals",
        title=_("紹介の流れ（送付 → 受入 → 完了、辞退・期限切れ・取消）"),
        chart={
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {
                    "label": _("件数"),
                    "data": [r[1] for r in rows],
                    "colors": [colour for _l, _s, colour in _FUNNEL],
                }
            ],
        },
        headers=[_("段階"), _("件数")],
        rows=rows,
        note=_(
            "この年度に送付された紹介（自組織が紹介元または紹介先）の現在の状態です。"
            "受入には完了したものを含みます。"
        ),
    )
    return section, totals


def _program_section(actor: Actor, fy: int, scope: str | None) -> Section | None:
    program_statistics = statistics.program_statistics_providers()
    if program_statistics is None:
        return None
    result = program_statistics(
        actor=actor, fiscal_year=fy, group_by=["program"], scope=scope
    )
    rows = []
    for r in result["rows"]:
        accepted = r.get("accepted", 0) + r.get("active", 0) + r.get("completed", 0)
        rows.append(
            [
                r["program_label"],
                r["enrolments"],
                accepted,
                r.get("completed", 0),
                r.get("capacity"),
            ]
        )
    return Section(
        key="programs",
        title=_("支援事業の参加件数と採択枠"),
        chart={
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {"label": _("申込"), "data": [r[1] for r in rows]},
                {"label": _("採択・支援中・完了"), "data": [r[2] for r in rows]},
                {"label": _("採択枠（全国）"), "data": [r[4] for r in rows]},
            ],
        },
        headers=[
            _("支援事業"),
            _("申込"),
            _("採択・支援中・完了"),
            _("完了"),
            _("採択枠（全国）"),
        ],
        rows=rows,
        note=_("採択枠はその年度の募集回の定員の合計（全国）です。"),
    )


def statistics_dashboard(
    actor: Actor, *, fiscal_year: int, scope: str | None = None
) -> Dashboard:
    """Return the KPI tiles and the chart sections of one fiscal year.

    Raises PermissionDenied (experts) and ValidationFailed (bad scope) from
    the statistics service.
    """
    reach = statistics.statistics_reach(actor, scope=scope)
    month, totals = _month_section(actor, fiscal_year, scope)
    referrals, referral_totals = _referral_section(actor, fiscal_year, scope)
    outcomes = statistics.outcome_kpis(
        actor=actor, fiscal_year=fiscal_year, scope=scope
    )
    startups, startup_totals = _startup_section(actor, fiscal_year, scope)
    answered = (
        referral_totals["accepted"]
        + referral_totals["completed"]
        + referral_totals["declined"]
    )
    kpis = [
        {
            "key": "consultations",
            "label": _("相談件数"),
            "value": _display(totals["consultations"]),
        },
        {
            "key": "companies",
            "label": _("相談企業数"),
            "value": _display(totals["companies"]),
        },
        {
            "key": "new_companies",
            "label": _("新規企業数"),
            "value": _display(totals["new_companies"]),
            "help": _("ネットワーク全体で初めて相談した企業"),
        },
        {
            "key": "yorozu_links",
            "label": _("よろず連携件数"),
            "value": _display(totals["yorozu_links"]),
            "help": _("INPIT窓口とよろず支援拠点の相互同席・相互紹介"),
        },
        {
            "key": "acceptance_rate",
            "label": _("紹介の受入率"),
            "value": _percent(referral_totals["acceptance_rate"]),
            "help": _("回答済み %(n)d 件中") % {"n": answered},
        },
        {
            "key": "median_answer",
            "label": _("回答までの営業日数（中央値）"),
            "value": _days(referral_totals["median_answer_business_days"]),
            "help": _("紹介の送付から受入・辞退まで"),
        },
        {
            "key": "filings",
            "label": _("相談後の出願件数"),
            "value": _display(outcomes["filings_after_consultation"]),
            "help": _("相談のあった案件で、その後に記録された出願"),
        },
        {
            "key": "first_filers",
            "label": _("初めて出願した中小企業数"),
            "value": _display(startup_totals["first_filers"]),
            "help": _(
                "この年度に相談し、その相談以後に初めての出願が記録された中小企業"
                "（知的財産推進計画2025の指標）"
            ),
        },
        {
            "key": "licences",
            "label": _("相談後のライセンス契約件数"),
            "value": _display(outcomes["licences"]),
            "help": _("相談のあった案件で、その後に記録されたライセンス契約"),
        },
        {
            "key": "funds_raised",
            "label": _("相談後の資金調達額"),
            "value": _("%(yen)s円") % {"yen": _display(outcomes["funds_raised_yen"])},
            "help": _(
                "相談のあった案件で、その後に記録された資金調達・融資 %(n)s件の金額の合計"
            )
            % {"n": _display(outcomes["financings"])},
        },
    ]
    sections = [
        month,
        _prefecture_section(actor, fiscal_year, scope),
        _topic_section(actor, fiscal_year, scope),
        startups,
        referrals,
    ]
    programs = _program_section(actor, fiscal_year, scope)
    if programs is not None:
        sections.append(programs)
    return Dashboard(
        fiscal_year=fiscal_year,
        fiscal_year_label=fiscal_year_label(fiscal_year),
        scope=scope or "reach",
        scope_label=reach.label,
        kpis=kpis,
        sections=sections,
    )


# --- views ------------------------------------------------------------------------------


def _no_access(request, message: str):
    return render(
        request, "crm/statistics/no_access.html", {"message": message}, status=403
    )


def _requested_fiscal_year(value: str | None, current: int) -> int | None:
    """Return the fiscal year asked for (the current one by default; None if bad)."""
    if value in (None, ""):
        return current
    try:
        fy = int(value)
    except ValueError:
        return None
    return fy if FIRST_FISCAL_YEAR <= fy <= current + 1 else None


def _page_url(fiscal_year: int, scope: str, **extra: Any) -> str:
    query = {"fiscal_year": fiscal_year, "scope": scope, **extra}
    return reverse("crm:statistics") + "?" + urlencode(query)


@login_required
@require_GET
def statistics_page(request):
    """Managers' page: pick a fiscal year and scope; KPIs, charts, tables, export."""
    try:
        actor = web_actor(request)
        reach = statistics.statistics_reach(actor)
    except PermissionDenied as exc:
        return _no_access(request, exc.detail)
    except DomainError as exc:
        return render(request, "crm/no_membership.html", {"message": exc.detail})
    current = fiscal_year_of(timezone.now())
    fy = _requested_fiscal_year(request.GET.get("fiscal_year"), current)
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
        current = fiscal_year_of(timezone.now())
        return redirect(
            _page_url(_requested_fiscal_year(fy, current) or current, scope)
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
