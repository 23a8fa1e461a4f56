"""The managers' page's figures: KPI tiles, and the chart sections with their tables.

`statistics_dashboard` reads every figure of one fiscal year and scope from
the statistics functions (scoped by the caller's reach; enrolments through
the programs app's registered provider) and shapes them for the page: each
section holds a chart's JSON and a table with the same numbers, so the page
reads without JavaScript. The page itself (request, fiscal-year input,
exports) is crm/web/statistics.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import ReferralStatus
from crm.statistics.consultations import consultation_statistics
from crm.statistics.events import event_statistics
from crm.statistics.outcomes import outcome_kpis
from crm.statistics.programs import program_statistics_providers
from crm.statistics.reach import statistics_reach
from crm.statistics.referrals import referral_statistics
from crm.statistics.surveys import survey_statistics
from support_network.actors import Actor
from support_network.calendar import fiscal_year_label


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
    result = consultation_statistics(
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
    result = consultation_statistics(
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
    result = consultation_statistics(
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
    result = consultation_statistics(
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
    result = referral_statistics(actor=actor, fiscal_year=fy, scope=scope)
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
    program_statistics = program_statistics_providers()
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


def _event_section(actor: Actor, fy: int, scope: str | None) -> Section:
    """Events by kind, with the funnel: attended → consulted → filed."""
    result = event_statistics(
        actor=actor, fiscal_year=fy, group_by=["kind"], scope=scope
    )
    measures = (
        "events",
        "attendees",
        "companies",
        "companies_consulted_after",
        "companies_filed_after",
    )
    rows = [[r["kind_label"], *(r[m] for m in measures)] for r in result["rows"]]
    totals = result["totals"]
    return Section(
        key="events",
        title=_("イベント（セミナー・研修等）と参加後の相談"),
        chart={
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {"label": _("参加企業"), "data": [r[3] for r in rows]},
                {"label": _("90日以内に相談"), "data": [r[4] for r in rows]},
                {"label": _("その後に出願"), "data": [r[5] for r in rows]},
            ],
        },
        headers=[
            _("種類"),
            _("開催数"),
            _("出席者"),
            _("参加企業"),
            _("90日以内に相談した企業"),
            _("その後に出願した企業"),
        ],
        rows=rows,
        totals=[_("合計"), *(totals[m] for m in measures)],
        note=_(
            "共催のイベントは各主催組織に1件ずつ、合計では1件と数えます。"
            "相談は参加後90日以内に、ネットワーク内のどの組織で受けたものも数えます。"
        ),
    )


def _survey_section(
    actor: Actor, fy: int, scope: str | None
) -> tuple[Section, dict[str, Any]]:
    """Satisfaction surveys by month: sent, responses, share satisfied."""
    result = survey_statistics(
        actor=actor, fiscal_year=fy, group_by=["month"], scope=scope
    )
    rows = [
        [
            r["month_label"],
            r["sent"],
            r["responses"],
            _percent(r["response_rate"]),
            _percent(r["satisfied_share"]),
        ]
        for r in result["rows"]
    ]
    totals = result["totals"]
    section = Section(
        key="surveys",
        title=_("満足度調査（支援満足度）"),
        chart={
            "type": "bar",
            "labels": [r[0] for r in rows],
            "datasets": [
                {"label": _("送信"), "data": [r["sent"] for r in result["rows"]]},
                {
                    "label": _("回答"),
                    "data": [r["responses"] for r in result["rows"]],
                },
            ],
        },
        headers=[_("月"), _("送信"), _("回答"), _("回答率"), _("満足（4〜5点）の割合")],
        rows=rows,
        totals=[
            _("合計"),
            totals["sent"],
            totals["responses"],
            _percent(totals["response_rate"]),
            _percent(totals["satisfied_share"]),
        ],
        note=_(
            "同意と連絡先のある企業等に、相談の数営業日後・紹介の完了後に送る"
            "アンケートです。自由記述は「満足度調査の回答」で各組織の管理者だけが見られます。"
        ),
    )
    return section, totals


def statistics_dashboard(
    actor: Actor, *, fiscal_year: int, scope: str | None = None
) -> Dashboard:
    """Return the KPI tiles and the chart sections of one fiscal year.

    Raises PermissionDenied (experts) and ValidationFailed (bad scope) from
    the statistics service.
    """
    reach = statistics_reach(actor, scope=scope)
    month, totals = _month_section(actor, fiscal_year, scope)
    referrals, referral_totals = _referral_section(actor, fiscal_year, scope)
    outcomes = outcome_kpis(actor=actor, fiscal_year=fiscal_year, scope=scope)
    startups, startup_totals = _startup_section(actor, fiscal_year, scope)
    surveys, survey_totals = _survey_section(actor, fiscal_year, scope)
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
        {
            "key": "satisfaction",
            "label": _("支援満足度"),
            "value": _percent(survey_totals["satisfied_share"]),
            "help": _("満足度調査で4〜5点と答えた割合（回答 %(n)s 件中）")
            % {"n": _display(survey_totals["responses"])},
        },
    ]
    sections = [
        month,
        _prefecture_section(actor, fiscal_year, scope),
        _topic_section(actor, fiscal_year, scope),
        startups,
        referrals,
        _event_section(actor, fiscal_year, scope),
        surveys,
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
