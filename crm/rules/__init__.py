"""Pure business rules about companies: identity, name keys, size and startup status.

These rules decide which records are the same company (法人番号 and name keys), which
programmes a company may use (SME / 小規模 / 中堅 size and the JPO startup definition)
and how users find companies (search keys). They are kept free of Django so that models,
serializers, importers and reports share one tested implementation, and so that they
can be tested without a database.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import NamedTuple

import jaconv

__all__ = [
    "GROUP_EXCLUDED",
    "GROUP_MANUFACTURING",
    "GROUP_MIXED",
    "GROUP_RETAIL",
    "GROUP_SERVICE",
    "GROUP_UNDECIDED",
    "GROUP_WHOLESALE",
    "KIND_CORPORATION",
    "KIND_SOLE_PROPRIETOR",
    "MIDSIZE_MAX_EMPLOYEES",
    "SIZE_LARGE",
    "SIZE_MICRO",
    "SIZE_MIDSIZE",
    "SIZE_SME",
    "SIZE_UNKNOWN",
    "SME_THRESHOLDS",
    "STARTUP_MAX_AGE_YEARS",
    "STARTUP_MAX_CAPITAL_YEN",
    "STARTUP_MAX_EMPLOYEES",
    "STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE",
    "SmeThresholds",
    "corporate_number_check_digit",
    "industry_needs_more_detail",
    "is_startup",
    "is_valid_corporate_number",
    "is_valid_industry",
    "kana_key",
    "name_key",
    "normalise_corporate_number",
    "normalise_name",
    "search_keys",
    "size_class",
    "sme_industry_group",
]

# --------------------------------------------------------------------------------------
# 法人番号 (corporate number)
# --------------------------------------------------------------------------------------

# Hyphen and dash look-alikes people type between digit groups ("1-1300-0101-1420").
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\ufe58\ufe63\uff0d\uff70"
# Characters NFKC keeps but that are invisible in a form field.
_ZERO_WIDTH = "\u180e\u200b\u200c\u200d\u2060\ufeff"
_CORPORATE_NUMBER_SEPARATORS = re.compile(f"[\\s{re.escape(_DASHES + _ZERO_WIDTH)}]+")
_CORPORATE_NUMBER_LENGTH = 13


def normalise_corporate_number(value: str) -> str:
    """Return the digits of a typed 法人番号, which may still be invalid.

    Full-width digits become ASCII (NFKC), surrounding and inner spaces and hyphens go,
    and a leading "T" is dropped: an invoice registration number (適格請求書発行事業者
    登録番号) of a corporation is "T" + 法人番号 (reference/houjin_bangou.md §1).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if text[:1] in ("T", "t"):
        text = text[1:]
    return _CORPORATE_NUMBER_SEPARATORS.sub("", text)


def corporate_number_check_digit(base12: str) -> int:
    """Return the check digit (1–9) of a 12-digit base number (基礎番号).

    法人番号の指定等に関する省令 第2条: 9 − (Σ Pn × Qn mod 9), where Pn is the n-th
    digit counted from the right and Qn is 1 for odd n and 2 for even n; the mod
    applies to the whole sum (reference/houjin_bangou.md §2).

    Raises:
        ValueError: if *base12* is not exactly 12 ASCII digits.
    """
    if len(base12) != _CORPORATE_NUMBER_LENGTH - 1 or not _is_ascii_digits(base12):
        raise ValueError(f"base number must be 12 ASCII digits, got {base12!r}")
    total = sum(
        int(digit) * (2 if n % 2 == 0 else 1)
        for n, digit in enumerate(reversed(base12), start=1)
    )
    return 9 - total % 9


def is_valid_corporate_number(value: str) -> bool:
    """Return whether *value* is a well-formed 法人番号 (13 digits, check digit first).

    Well-formed is not the same as existing: only NTA data proves that
    (reference/houjin_bangou.md §2).
    """
    number = normalise_corporate_number(value)
    if len(number) != _CORPORATE_NUMBER_LENGTH or not _is_ascii_digits(number):
        return False
    return int(number[0]) == corporate_number_check_digit(number[1:])


def _is_ascii_digits(text: str) -> bool:
    """Return whether *text* is non-empty and made of ASCII digits only."""
    # str.isdigit() alone would also accept "١" or "²".
    return text.isascii() and text.isdigit()


# --------------------------------------------------------------------------------------
# Name normalisation and keys
# --------------------------------------------------------------------------------------

# NFKC turns FULLWIDTH TILDE into "~" but keeps WAVE DASH; the pair is the classic
# Shift-JIS round-trip confusion, so both become "~"
# (reference/text_normalization.md §3).
_TILDES = str.maketrans({"\u301c": "~"})
# Dash look-alikes left after NFKC (which already maps U+FF0D and U+FE63 to "-").
_NAME_DASHES = frozenset(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b"
)
_LONG_VOWEL = "\u30fc"  # ー KATAKANA-HIRAGANA PROLONGED SOUND MARK
_WHITESPACE = re.compile(f"[\\s{re.escape(_ZERO_WIDTH)}]+")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _is_katakana_letter(char: str) -> bool:
    """Return whether *char* is a katakana letter (ァ–ヺ, ㇰ–ㇿ) or ー."""
    return "\u30a1" <= char <= "\u30fa" or "\u31f0" <= char <= "\u31ff" or char == "ー"


def _is_ascii_alnum(char: str) -> bool:
    """Return whether *char* is an ASCII letter or digit."""
    return char.isascii() and char.isalnum()


def _unify_dashes(text: str) -> str:
    """Apply the dash rule of reference/text_normalization.md §3.

    A dash-like character right after a katakana letter or ー, and not followed by an
    ASCII letter or digit, is a mistyped long vowel (ｺ-ﾋ- → コーヒー); every other one
    is a hyphen (Ａ－１ → A-1, テスト-1 stays). The previous character is read from the
    output, so a run of dashes after katakana becomes a run of ー.
    """
    out: list[str] = []
    for i, char in enumerate(text):
        if char in _NAME_DASHES:
            after_kana = bool(out) and _is_katakana_letter(out[-1])
            before_alnum = i + 1 < len(text) and _is_ascii_alnum(text[i + 1])
            char = _LONG_VOWEL if after_kana and not before_alnum else "-"
        out.append(char)
    return "".join(out)


def normalise_name(value: str) -> str:
    """Return the ``name_norm`` search key of an organisation name.

    Steps (reference/text_normalization.md §1, §3): NFKC (full-width ASCII and
    half-width kana, ㈱ → (株)), WAVE DASH and FULLWIDTH TILDE unified, every space
    removed (including U+3000, NBSP and zero-width ones), the dash rule applied and
    ASCII upper-cased. Hiragana is kept as typed; ``kana_key`` is the reading key.
    """
    text = unicodedata.normalize("NFKC", value).translate(_TILDES)
    # Spaces go before the dash rule so that "コーヒー - 1" and "コーヒー-1" agree.
    text = _WHITESPACE.sub("", text)
    return _unify_dashes(text).translate(_ASCII_UPPER)


# Legal-form designators (法人格) as written, abbreviated and read in katakana
# (reference/text_normalization.md §2). They may precede (前株) or follow (後株) the
# name; the key must ignore both. Abbreviations are only matched in parentheses: a bare
# "同" or "名" is part of many real names.
_LEGAL_FORMS: tuple[str, ...] = (
    # Companies (会社).
    "株式会社", "(株)", "カブシキガイシャ", "カブシキカイシャ",
    "有限会社", "(有)", "ユウゲンガイシャ", "ユウゲンカイシャ",
    "合同会社", "(同)", "ゴウドウガイシャ", "ゴウドウカイシャ",
    "合資会社", "(資)", "ゴウシガイシャ", "ゴウシカイシャ",
    "合名会社", "(名)", "ゴウメイガイシャ", "ゴウメイカイシャ",
    # Associations and foundations (社団・財団).
    "一般社団法人", "(一社)", "イッパンシャダンホウジン",
    "一般財団法人", "(一財)", "イッパンザイダンホウジン",
    "公益社団法人", "(公社)", "コウエキシャダンホウジン",
    "公益財団法人", "(公財)", "コウエキザイダンホウジン",
    "社団法人", "(社)", "シャダンホウジン",
    "財団法人", "(財)", "ザイダンホウジン",
    # Other non-profit and public bodies.
    "特定非営利活動法人", "トクテイヒエイリカツドウホウジン",
    "NPO法人", "エヌピーオーホウジン",
    "医療法人社団", "イリョウホウジンシャダン",
    "医療法人財団", "イリョウホウジンザイダン",
    "医療法人", "イリョウホウジン",
    "社会福祉法人", "シャカイフクシホウジン",
    "学校法人", "ガッコウホウジン",
    "宗教法人", "シュウキョウホウジン",
    "独立行政法人", "ドクリツギョウセイホウジン",
    "国立研究開発法人", "コクリツケンキュウカイハツホウジン",
    "国立大学法人", "コクリツダイガクホウジン",
    "公立大学法人", "コウリツダイガクホウジン",
    # Co-operatives and partnerships. ㈿ (U+323F) is NFKC "(協)".
    "事業協同組合", "ジギョウキョウドウクミアイ",
    "協同組合", "(協)", "キョウドウクミアイ",
    "有限責任事業組合", "ユウゲンセキニンジギョウクミアイ",
    # Professional corporations (士業法人); 特許業務法人 is the pre-2022 name of
    # 弁理士法人 and still appears in old records.
    "弁理士法人", "ベンリシホウジン",
    "特許業務法人", "トッキョギョウムホウジン",
    "弁護士法人", "ベンゴシホウジン",
    "税理士法人", "ゼイリシホウジン",
    "監査法人", "カンサホウジン",
)  # fmt: skip

# Longest first so that 一般社団法人 wins over 社団法人 and 医療法人社団 over 医療法人.
# The patterns go through normalise_name themselves so that they match its output.
_LEGAL_FORM_PATTERN = re.compile(
    "|".join(
        re.escape(form)
        for form in sorted({normalise_name(f) for f in _LEGAL_FORMS}, key=len)[::-1]
    )
)


def _strip_legal_forms(normalised: str) -> str:
    """Remove legal-form designators from a normalised name, unless nothing is left."""
    stripped = _LEGAL_FORM_PATTERN.sub("", normalised)
    return stripped or normalised


def name_key(value: str) -> str:
    """Return the duplicate-detection key: ``normalise_name`` without legal forms.

    株式会社テスト, テスト株式会社, ㈱テスト, (株)ﾃｽﾄ and カブシキガイシャテスト all
    give テスト. A key only proposes duplicate candidates; 法人番号 confirms them
    (reference/text_normalization.md §4). A name that is nothing but a legal form keeps
    it, so the key is never empty for a non-empty name.
    """
    return _strip_legal_forms(normalise_name(value))


def kana_key(value: str) -> str:
    """Return the reading key: ``name_key`` with hiragana turned into katakana first.

    てすと, ﾃｽﾄ and テスト all give テスト, which also matches NTA's furigana column
    (katakana without the legal form; reference/houjin_bangou.md §4). Kanji are kept.
    """
    # hira2kata runs after NFKC and before the dash rule so that こ-ひ- → コーヒー.
    katakana = jaconv.hira2kata(unicodedata.normalize("NFKC", value))
    return _strip_legal_forms(normalise_name(katakana))


def search_keys(query: str) -> tuple[str, str]:
    """Return ``(name_key(query), kana_key(query))`` to match against stored keys."""
    return name_key(query), kana_key(query)


# --------------------------------------------------------------------------------------
# SME industry group (業種分類) from the JSIC code
# --------------------------------------------------------------------------------------

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

# First 中分類 number of each 大分類 (JSIC 13th revision, which the SME mapping uses;
# reference/jsic.md "Revision"). A 中分類 belongs to the last letter whose start is
# not above it: A 01–02, B 03–04, …, S 97–98, T 99.
_MAJOR_STARTS: tuple[tuple[int, str], ...] = (
    (1, "A"), (3, "B"), (5, "C"), (6, "D"), (9, "E"), (33, "F"), (37, "G"),
    (42, "H"), (50, "I"), (62, "J"), (68, "K"), (71, "L"), (75, "M"), (78, "N"),
    (81, "O"), (83, "P"), (86, "Q"), (88, "R"), (97, "S"), (99, "T"),
)  # fmt: skip

# A 大分類 letter, optionally followed by a 2–4 digit 中/小/細分類 code, or the digits
# alone: "E", "56", "411", "7611", "M76".
_JSIC_CODE = re.compile(r"(?P<letter>[A-T])?(?P<digits>[0-9]{2,4})?")


class _Rule(NamedTuple):
    """One row of jsic_sme_rules.csv: its SME group and the limits it applies."""

    group: str
    thresholds: SmeThresholds | None  # None for GROUP_EXCLUDED / GROUP_UNDECIDED


@functools.cache
def _sme_rules() -> dict[str, dict[str, _Rule]]:
    """Load jsic_sme_rules.csv as ``{level: {code: rule}}``.

    A row's limits are its group's (SME_THRESHOLDS) unless the optional columns
    ``capital_max_yen``, ``employees_max`` or ``micro_employees_max`` replace them:
    the special cases of the cabinet orders (ゴム製品製造業, 旅館業, ソフトウェア業・
    情報処理サービス業; 宿泊業・娯楽業 for 小規模) are rows of the file, not code.

    Raises:
        ValueError: on an unknown level or group label, a bad limit, or limits on
            a group that has none, so a bad edit fails loudly.
    """
    rules: dict[str, dict[str, _Rule]] = {level: {} for level in _LEVELS}
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
            rules[level][code] = _Rule(group, thresholds)
    return rules


# Optional columns of jsic_sme_rules.csv and the SmeThresholds field each replaces.
_OVERRIDE_COLUMNS = {
    "capital_max_yen": "capital_yen",
    "employees_max": "employees",
    "micro_employees_max": "micro_employees",
}
# Digits of each level below 大分類 (中分類 2, 小分類 3, 細分類 4), most specific first.
_DIGIT_LEVELS = (("細分類", 4), ("小分類", 3), ("中分類", 2))


def _major_of(middle: int) -> str | None:
    """Return the 大分類 letter of a 中分類 number, or None outside 01–99."""
    if not 1 <= middle <= 99:
        return None
    return next(letter for start, letter in reversed(_MAJOR_STARTS) if middle >= start)


def _middles_of(major: str) -> range:
    """Return the 中分類 numbers of a 大分類 letter (I → 50–61)."""
    starts = dict((letter, start) for start, letter in _MAJOR_STARTS)
    following = [start for start, _letter in _MAJOR_STARTS if start > starts[major]]
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
    major = _major_of(int(digits[:2]))
    if major is None or (letter is not None and letter != major):
        return None
    return major, digits


def _candidate_rules(industry: str | None) -> set[_Rule] | None:
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
                code.startswith(digits) if digits else _major_of(int(code[:2])) == major
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
    candidates = _candidate_rules(industry)
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
    candidates = _candidate_rules(industry)
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


# --------------------------------------------------------------------------------------
# Company size (規模区分) and startup status
# --------------------------------------------------------------------------------------

KIND_CORPORATION = "corporation"
KIND_SOLE_PROPRIETOR = "sole_proprietor"

SIZE_MICRO = "micro"  # 小規模企業者
SIZE_SME = "sme"  # 中小企業者 (not 小規模)
SIZE_MIDSIZE = "midsize"  # 中堅企業者
SIZE_LARGE = "large"  # 大企業
SIZE_UNKNOWN = "unknown"  # not covered, or the data needed to decide is missing


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

# 中堅企業者: at most 2,000 regular employees and not an SME (改正産業競争力強化法,
# in force 2024-09-02; reference/sme_definitions.md §5).
MIDSIZE_MAX_EMPLOYEES = 2000

# JPO startup (スタートアップ対応早期審査 etc.; reference/sme_definitions.md §4).
STARTUP_MAX_AGE_YEARS = 10
STARTUP_MAX_EMPLOYEES = 20
STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE = 5
STARTUP_MAX_CAPITAL_YEN = 300_000_000


def _check_not_negative(**values: int | None) -> None:
    """Raise ValueError if any of the given counts or amounts is negative."""
    for name, value in values.items():
        if value is not None and value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")


def size_class(
    *, kind: str, industry: str | None, capital_yen: int | None, employees: int | None
) -> str:
    """Return the size class (micro, sme, midsize, large or unknown) of a company.

    Recipe of reference/sme_definitions.md §6: SME if capital or employees are within
    the limits of the JSIC code's most specific rule (its group's, or a cabinet-order
    special case such as ソフトウェア業 3億円/300人); micro if an SME with employees within the 小規模 limit;
    otherwise midsize up to 2,000 employees and large above. Only corporations (会社)
    and sole proprietors (個人) are covered by 中小企業基本法; a sole proprietor has no
    capital, so only the employee test applies. Whenever the data needed for the answer
    is missing the result is "unknown" rather than a guess, and so is it when the
    industry code is too coarse for the figures (``industry_needs_more_detail``).

    Raises:
        ValueError: if *capital_yen* or *employees* is negative.
    """
    _check_not_negative(capital_yen=capital_yen, employees=employees)
    if kind not in (KIND_CORPORATION, KIND_SOLE_PROPRIETOR):
        return SIZE_UNKNOWN
    candidates = _candidate_rules(industry)
    if not candidates or any(rule.thresholds is None for rule in candidates):
        return SIZE_UNKNOWN
    if kind == KIND_SOLE_PROPRIETOR:
        capital_yen = None
    # A code too coarse to pick one rule (a bare "I") decides only when every rule
    # it may stand for gives the same answer.
    answers = {
        _size_under(rule.thresholds, kind, capital_yen, employees)
        for rule in candidates
        if rule.thresholds is not None
    }
    return answers.pop() if len(answers) == 1 else SIZE_UNKNOWN


def _size_under(
    thresholds: SmeThresholds, kind: str, capital_yen: int | None, employees: int | None
) -> str:
    """Return the size class under one rule's limits (size_class's recipe)."""
    capital_ok = None if capital_yen is None else capital_yen <= thresholds.capital_yen
    employees_ok = None if employees is None else employees <= thresholds.employees

    if capital_ok or employees_ok:
        if employees is None:
            return SIZE_SME
        return SIZE_MICRO if employees <= thresholds.micro_employees else SIZE_SME
    if employees is None or (capital_ok is None and kind == KIND_CORPORATION):
        # One test failed but the other, which could still make it an SME, is unknown.
        return SIZE_UNKNOWN
    return SIZE_MIDSIZE if employees <= MIDSIZE_MAX_EMPLOYEES else SIZE_LARGE


def _add_years(d: date, years: int) -> date:
    """Return the same day *years* later; 29 February maps to 1 March.

    民法第143条第2項: a period counted in years from 29 February ends on the last day of
    February when the final year has no 29th, so the first day outside it is 1 March.
    """
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 3, 1)


def is_startup(
    *,
    kind: str,
    founded_on: date | None,
    employees: int | None,
    capital_yen: int | None,
    industry: str | None,
    controlled_by_large_company: bool,
    today: date,
) -> bool:
    """Return whether the company is a startup in the JPO sense.

    reference/sme_definitions.md §4: an individual within 10 years of starting business,
    or a corporation within 10 years of incorporation, not controlled by a large
    company, with at most 20 regular employees (5 in commerce or services) or capital of
    at most 3億円. "Within 10 years" ends the day before the 10th anniversary: a company
    founded 2016-11-21 is a startup on 2026-11-20 but not on 2026-11-21.

    The 20-employee limit needs the industry group to be known as 製造業その他; with no
    usable industry code only the stricter 5-employee limit is applied, because the
    company may be in commerce or services. Missing data never makes a startup.

    Raises:
        ValueError: if *capital_yen* or *employees* is negative.
    """
    _check_not_negative(capital_yen=capital_yen, employees=employees)
    if kind not in (KIND_CORPORATION, KIND_SOLE_PROPRIETOR) or founded_on is None:
        return False
    # A founding date in the future is a planned business, not yet an applicant.
    if not founded_on <= today < _add_years(founded_on, STARTUP_MAX_AGE_YEARS):
        return False
    if kind == KIND_SOLE_PROPRIETOR:
        return True
    if controlled_by_large_company:
        return False

    if sme_industry_group(industry) == GROUP_MANUFACTURING:
        employee_limit = STARTUP_MAX_EMPLOYEES
    else:
        # Commerce/services, or unknown: only the limit valid for every group is safe.
        employee_limit = STARTUP_MAX_EMPLOYEES_COMMERCE_SERVICE
    few_employees = employees is not None and employees <= employee_limit
    small_capital = capital_yen is not None and capital_yen <= STARTUP_MAX_CAPITAL_YEN
    return few_employees or small_capital
