"""JSIC industry codes: the SME industry group and limits of a code, and its name.

The one home of the JSIC 大分類 table (``JSIC_MAJOR_STARTS``, ``jsic_major_division``)
and of seeds/data/jsic_sme_rules.csv, which maps JSIC codes to the SME industry groups
of 中小企業基本法 and their limits (``SME_THRESHOLDS`` and the cabinet-order special
cases). The limits live here, beside the groups they belong to, because each row of
the table carries its own; crm.rules.company_size applies them. Pure Python, no Django.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "GROUP_EXCLUDED",
    "GROUP_MANUFACTURING",
    "GROUP_MIXED",
    "GROUP_RETAIL",
    "GROUP_SERVICE",
    "GROUP_UNDECIDED",
    "GROUP_WHOLESALE",
    "JSIC_MAJOR_STARTS",
    "JSIC_SME_RULES_PATH",
    "SME_THRESHOLDS",
    "SmeRule",
    "SmeThresholds",
    "industry_label",
    "industry_needs_more_detail",
    "industry_rules",
    "is_valid_industry",
    "jsic_major_division",
    "sme_industry_group",
]

GROUP_MANUFACTURING = "manufacturing"  # 製造業その他 (manufacturing and all others)
GROUP_WHOLESALE = "wholesale"  # 卸売業
GROUP_SERVICE = "service"  # サービス業
GROUP_RETAIL = "retail"  # 小売業 (incl. eating and drinking places)
GROUP_EXCLUDED = "excluded"  # 対象外 (S 公務: not an enterprise)
GROUP_UNDECIDED = "undecided"  # 要判断 (T 分類不能: classify by hand)
# A code whose sub-codes fall in different groups (a bare "I"): ask for more detail.
GROUP_MIXED = "mixed"

_GROUP_BY_LABEL = {
    "製造業その他": GROUP_MANUFACTURING,
    "卸売業": GROUP_WHOLESALE,
    "サービス業": GROUP_SERVICE,
    "小売業": GROUP_RETAIL,
    "対象外": GROUP_EXCLUDED,
    "要判断": GROUP_UNDECIDED,
}
_LEVELS = ("大分類", "中分類", "小分類", "細分類")

JSIC_SME_RULES_PATH = (
    Path(__file__).resolve().parents[2] / "seeds" / "data" / "jsic_sme_rules.csv"
)


class SmeThresholds(NamedTuple):
    """Upper limits (inclusive) of one industry group."""

    capital_yen: int  # 資本金の額又は出資の総額
    employees: int  # 常時使用する従業員の数
    micro_employees: int  # 小規模企業者


# 中小企業基本法 第2条第1項 (capital or employees) and 第2条第5項 (小規模企業者,
# employees only); reference/sme_definitions.md §1–2. The cabinet-order special
# cases (ゴム製品製造業, 旅館業, ソフトウェア業・情報処理サービス業; 宿泊業・娯楽業 for
# 小規模) replace these limits for their JSIC codes: rows of jsic_sme_rules.csv with
# their own limits (seeds/data/README.md).
SME_THRESHOLDS: dict[str, SmeThresholds] = {
    GROUP_MANUFACTURING: SmeThresholds(300_000_000, 300, 20),
    GROUP_WHOLESALE: SmeThresholds(100_000_000, 100, 5),
    GROUP_SERVICE: SmeThresholds(50_000_000, 100, 5),
    GROUP_RETAIL: SmeThresholds(50_000_000, 50, 5),
}


# First 中分類 number of each 大分類 (JSIC 13th revision, which the SME mapping uses;
# reference/jsic.md "Revision"). A 中分類 belongs to the last letter whose start is
# not above it: A 01–02, B 03–04, …, S 97–98, T 99.
JSIC_MAJOR_STARTS: tuple[tuple[int, str], ...] = (
    (1, "A"), (3, "B"), (5, "C"), (6, "D"), (9, "E"), (33, "F"), (37, "G"),
    (42, "H"), (50, "I"), (62, "J"), (68, "K"), (71, "L"), (75, "M"), (78, "N"),
    (81, "O"), (83, "P"), (86, "Q"), (88, "R"), (97, "S"), (99, "T"),
)  # fmt: skip

# A 大分類 letter, optionally followed by a 2–4 digit 中/小/細分類 code, or the digits
# alone: "E", "56", "411", "7611", "M76".
_JSIC_CODE = re.compile(r"(?P<letter>[A-T])?(?P<digits>[0-9]{2,4})?")


class SmeRule(NamedTuple):
    """One row of jsic_sme_rules.csv: its SME group and the limits it applies."""

    group: str
    thresholds: SmeThresholds | None  # None for GROUP_EXCLUDED / GROUP_UNDECIDED


@functools.cache
def _sme_rules() -> dict[str, dict[str, SmeRule]]:
    """Load jsic_sme_rules.csv as ``{level: {code: rule}}``.

    A row's limits are its group's (SME_THRESHOLDS) unless the optional columns
    ``capital_max_yen``, ``employees_max`` or ``micro_employees_max`` replace them:
    the special cases of the cabinet orders (ゴム製品製造業, 旅館業, ソフトウェア業・
    情報処理サービス業; 宿泊業・娯楽業 for 小規模) are rows of the file, not code.

    Raises:
        ValueError: on an unknown level or group label, a bad limit, or limits on
            a group that has none, so a bad edit fails loudly.
    """
    rules: dict[str, dict[str, SmeRule]] = {level: {} for level in _LEVELS}
    with JSIC_SME_RULES_PATH.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            level, code, label = row["level"], row["code"], row["sme_group"]
            if level not in rules or label not in _GROUP_BY_LABEL:
                raise ValueError(f"bad row in {JSIC_SME_RULES_PATH.name}: {row}")
            group = _GROUP_BY_LABEL[label]
            thresholds = SME_THRESHOLDS.get(group)
            overrides = {
                field: int(row[column])
                for column, field in _OVERRIDE_COLUMNS.items()
                if (row.get(column) or "").strip()
            }
            if overrides:
                if thresholds is None:
                    raise ValueError(
                        f"limits on a group without limits in "
                        f"{JSIC_SME_RULES_PATH.name}: {row}"
                    )
                thresholds = thresholds._replace(**overrides)
            rules[level][code] = SmeRule(group, thresholds)
    return rules


# Optional columns of jsic_sme_rules.csv and the SmeThresholds field each replaces.
_OVERRIDE_COLUMNS = {
    "capital_max_yen": "capital_yen",
    "employees_max": "employees",
    "micro_employees_max": "micro_employees",
}
# Digits of each level below 大分類 (中分類 2, 小分類 3, 細分類 4), most specific first.
_DIGIT_LEVELS = (("細分類", 4), ("小分類", 3), ("中分類", 2))


def jsic_major_division(middle: int) -> str | None:
    """Return the 大分類 letter of a 中分類 number, or None outside 01–99."""
    if not 1 <= middle <= 99:
        return None
    return next(
        letter for start, letter in reversed(JSIC_MAJOR_STARTS) if middle >= start
    )


def _middles_of(major: str) -> range:
    """Return the 中分類 numbers of a 大分類 letter (I → 50–61)."""
    starts = dict((letter, start) for start, letter in JSIC_MAJOR_STARTS)
    following = [start for start, _letter in JSIC_MAJOR_STARTS if start > starts[major]]
    return range(starts[major], following[0] if following else 100)


def _parse_industry(industry: str | None) -> tuple[str, str] | None:
    """Return ``(大分類 letter, digits)`` of a JSIC code ("" digits for a letter)."""
    if industry is None:
        return None
    code = unicodedata.normalize("NFKC", industry).strip().upper()
    match = _JSIC_CODE.fullmatch(code)
    if not code or match is None:
        return None
    letter, digits = match["letter"], match["digits"]
    if digits is None:
        return (letter, "") if letter in _sme_rules()["大分類"] else None
    major = jsic_major_division(int(digits[:2]))
    if major is None or (letter is not None and letter != major):
        return None
    return major, digits


def industry_rules(industry: str | None) -> set[SmeRule] | None:
    """Return the rules that may apply to a company coded *industry*, or None.

    The most specific rule of the code itself wins (細分類 > 小分類 > 中分類 >
    大分類), and so do the rules of every more specific code under it: a company
    coded "I" may be a wholesaler (50–55) or a retailer (56–61), one coded "39" a
    software house (391, special limits) or another 情報サービス業. One rule means
    the code decides; several mean it needs a more specific code when they disagree.
    A 大分類 letter counts as several only when its 中分類 fall in different groups
    (issue 16: G, I, K, M, N); E decides with the manufacturing limits, and the
    ゴム製品 special case needs 中分類 19 or finer.
    """
    parsed = _parse_industry(industry)
    if parsed is None:
        return None
    major, digits = parsed
    rules = _sme_rules()
    own = rules["大分類"][major]
    for level, length in _DIGIT_LEVELS:
        if len(digits) >= length and digits[:length] in rules[level]:
            own = rules[level][digits[:length]]
            break
    candidates = {own}
    if not digits and all(
        f"{middle:02d}" in rules["中分類"] for middle in _middles_of(major)
    ):
        # Every 中分類 of the letter has its own rule (I: 50–61): the letter's
        # default applies to none of its companies.
        candidates = set()
    for level, length in _DIGIT_LEVELS:
        if length <= len(digits):
            continue
        for code, rule in rules[level].items():
            under = (
                code.startswith(digits)
                if digits
                else jsic_major_division(int(code[:2])) == major
            )
            if under:
                candidates.add(rule)
    if not digits and len({rule.group for rule in candidates}) == 1:
        # A letter whose 中分類 all share one group (E 製造業) decides with its own
        # rule; a special case under it (ゴム製品 19) needs its 中分類 to apply.
        return {own}
    return candidates


def sme_industry_group(industry: str | None) -> str | None:
    """Return the SME industry group of a JSIC code, or None if it is not a code.

    The most specific rule of jsic_sme_rules.csv wins (細分類 > 小分類 > 中分類 >
    大分類; reference/jsic.md): 7611 → 中分類 76 → retail, 4111 → 小分類 411 →
    service, 3711 → 大分類 G → manufacturing. A code whose sub-codes fall in
    different groups (I 卸売業，小売業: 50–55 wholesale, 56–61 retail; G, K, M, N,
    中分類 79) does not decide the group: the answer is ``GROUP_MIXED`` and a more
    specific code is needed. Returns ``GROUP_EXCLUDED`` for S and
    ``GROUP_UNDECIDED`` for T; callers decide what those mean.
    """
    candidates = industry_rules(industry)
    if candidates is None:
        return None
    groups = {rule.group for rule in candidates}
    return groups.pop() if len(groups) == 1 else GROUP_MIXED


def industry_needs_more_detail(industry: str | None) -> bool:
    """Return whether *industry* is too coarse to decide the SME limits.

    True for a code whose sub-codes have different groups or limits (a bare "I",
    "G", "39" 情報サービス業, "19" ゴム製品製造業, …): the company's size class
    may then be ``unknown`` until a more specific code is stored.
    """
    candidates = industry_rules(industry)
    return candidates is not None and len(candidates) > 1


def is_valid_industry(industry: str) -> bool:
    """Return whether *industry* is a JSIC code ``sme_industry_group`` understands."""
    return sme_industry_group(industry) is not None


@functools.cache
def _jsic_names() -> dict[str, str]:
    """Return the Japanese name of each code of jsic_sme_rules.csv (``{code: name}``).

    The file names every 大分類 and the finer codes the SME rules single out
    (56 各種商品小売業, 391 ソフトウェア業, …); other codes are named by the
    nearest of those above them.
    """
    with JSIC_SME_RULES_PATH.open(encoding="utf-8-sig", newline="") as f:
        return {
            row["code"]: row["name_ja"].strip()
            for row in csv.DictReader(f)
            if (row.get("name_ja") or "").strip()
        }


def industry_label(industry: str | None) -> str:
    """Return a JSIC code with its Japanese name, for people to read.

    "E" → "E 製造業"; "391" → "391 ソフトウェア業（G 情報通信業）"; a code the
    table does not name shows what it falls under: "24" → "24（E 製造業）",
    "3911" → "3911（G 情報通信業 › 391 ソフトウェア業）". A value that is not a
    JSIC code is returned as stored; "" for none.
    """
    code = unicodedata.normalize("NFKC", industry or "").strip().upper()
    parsed = _parse_industry(code)
    if not code or parsed is None:
        return (industry or "").strip()
    major, digits = parsed
    names = _jsic_names()
    division = f"{major} {names[major]}" if major in names else major
    if not digits:
        return division
    within = [
        f"{digits[:length]} {names[digits[:length]]}"
        for _level, length in reversed(_DIGIT_LEVELS)
        if length < len(digits) and digits[:length] in names
    ]
    if digits in names:
        return f"{code} {names[digits]}（{division}）"
    return f"{code}（{' › '.join([division, *within])}）"
