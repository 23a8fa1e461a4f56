"""A program's rules as Japanese text, built from `Program.rules`.

The program list, the program page and the apply form show who may apply,
how long support lasts and the rules as text from the same data the
services enforce (programs/services/eligibility.py), so they never drift.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.choices import CompanyKind, IpType, SizeClass
from programs.choices import Scheme, TeamRole
from programs.models import Program
from programs.text import yen_text

# --- Rules as text -----------------------------------------------------------------


def eligibility_text(program: Program) -> str:
    """Return who may apply for program, in one line of Japanese."""
    rules = program.rules
    parts = []
    if rules.get("eligible_description"):
        parts.append(rules["eligible_description"])
    elif rules.get("eligible_company_kinds"):
        parts.append(
            "、".join(
                str(CompanyKind(k).label)
                for k in rules["eligible_company_kinds"]
                if k in CompanyKind.values
            )
        )
    if rules.get("requires_startup"):
        parts.append(_("スタートアップ（特許庁の定義: 設立10年未満など）に限る"))
    if rules.get("requires_size_class"):
        parts.append(
            _("規模: %(classes)s")
            % {
                "classes": "、".join(
                    str(SizeClass(c).label) for c in rules["requires_size_class"]
                )
            }
        )
    described = rules.get("eligible_description", "")
    if rules.get("requires_national_project") and "国プロ" not in described:
        parts.append(_("国プロ（競争的研究費による研究開発）を推進する機関"))
    if rules.get("excludes_deemed_large"):
        parts.append(_("みなし大企業（大企業の支配下にある中小企業）は対象外"))
    for condition in rules.get("conditions") or []:
        parts.append(_("要確認: %(label)s") % {"label": condition["label"]})
    return " ／ ".join(parts) or "—"


def duration_text(program: Program) -> str:
    """Return how long support lasts, e.g. "5か月" or "10か月（継続可）"."""
    months = program.rules.get("duration_months")
    if not months:
        return "—"
    text = _("%(months)sか月") % {"months": months}
    if program.rules.get("continuation"):
        text += _("（継続可）")
    return text


def rate_text(rate) -> str:
    return f"{rate[0]}/{rate[1]}"


def rules_summary(program: Program) -> list[tuple[str, str]]:
    """Return the program's rules as (heading, Japanese text) rows."""
    rules = program.rules
    rows = [
        (_("実施機関"), program.operator.name),
        (_("対象"), eligibility_text(program)),
    ]
    if rules.get("duration_months"):
        rows.append((_("支援期間"), duration_text(program)))
    if rules.get("continuation"):
        text = _("継続支援あり")
        if rules.get("continuation_requires_plan_achieved"):
            text += _("（前の支援期の支援計画の達成が条件）")
        rows.append((_("継続"), text))
    quota = rules.get("day_quota")
    if quota:
        if quota.get("per") == "fiscal_year":
            text = _("年度ごとに最大%(days)s日") % {"days": quota["days"]}
        else:
            text = _("支援期ごとに最大%(days)s日") % {"days": quota["days"]}
        if quota.get("min_configurable") is not None:
            text += _("（支援計画で%(low)s〜%(high)s日に設定できます）") % {
                "low": quota["min_configurable"],
                "high": quota["days"],
            }
        rows.append((_("支援日数"), text))
    if rules.get("requires_support_plan"):
        rows.append(
            (_("支援計画"), _("支援開始時に目標を定める（支援日の記録より前に必要）"))
        )
    if rules.get("team"):
        rows.append(
            (
                _("支援チーム"),
                " ＋ ".join(
                    str(TeamRole(r).label)
                    for r in rules["team"]
                    if r in TeamRole.values
                ),
            )
        )
    for number, scheme in (rules.get("schemes") or {}).items():
        label = Scheme(number).label if number in Scheme.values else number
        text = scheme.get("name", "")
        if scheme.get("min_joint_research_yen_per_year") is not None:
            text += _("（企業との共同研究費が年間%(yen)s以上）") % {
                "yen": yen_text(scheme["min_joint_research_yen_per_year"])
            }
        if scheme.get("accepts_new_applications") is False:
            text += _("（新規申込なし）")
        rows.append((_("類型%(label)s") % {"label": label}, text))
    subsidy = rules.get("subsidy")
    if subsidy:
        unit = subsidy.get("round_down_to") or 1
        text = (
            _("%(rate)s（%(unit)s未満切り捨て）")
            % {"rate": rate_text(subsidy["rate"]), "unit": yen_text(unit)}
            if unit > 1
            else _("%(rate)s（円未満切り捨て）") % {"rate": rate_text(subsidy["rate"])}
        )
        if subsidy.get("renewal_rate"):
            text += _("、更新時 %(rate)s") % {
                "rate": rate_text(subsidy["renewal_rate"])
            }
        rows.append((_("補助率"), text))
        per_case = subsidy.get("cap_per_case_yen") or {}
        if per_case:
            rows.append(
                (
                    _("1件あたりの上限"),
                    "、".join(
                        f"{IpType(r).label if r in IpType.values else r} {yen_text(v)}"
                        for r, v in sorted(
                            per_case.items(), key=lambda kv: (-kv[1], kv[0])
                        )
                    )
                    + (
                        _("、冒認対策商標 %(yen)s")
                        % {
                            "yen": yen_text(
                                subsidy["squatting_countermeasure"]["cap_per_case_yen"]
                            )
                        }
                        if subsidy.get("squatting_countermeasure")
                        else ""
                    ),
                )
            )
        if "cap_per_company_per_fiscal_year_yen" in subsidy:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("年度ごとに%(yen)s（同じ年度の交付済み額を差し引きます）")
                    % {"yen": yen_text(subsidy["cap_per_company_per_fiscal_year_yen"])},
                )
            )
        elif subsidy.get("cap_per_company_yen") is not None:
            rows.append(
                (
                    _("1企業あたりの上限"),
                    _("%(yen)s（交付済み額を差し引きます）")
                    % {"yen": yen_text(subsidy["cap_per_company_yen"])},
                )
            )
        else:
            rows.append((_("1企業あたりの上限"), _("なし")))
    if rules.get("eligible_costs"):
        rows.append((_("対象経費"), rules["eligible_costs"]))
    if rules.get("implementing_bodies"):
        rows.append((_("補助事業者"), rules["implementing_bodies"]))
    return rows
