"""Tests for crm.rules: 法人番号, name keys, SME industry groups, size and startup.

Expected values come from reference/houjin_bangou.md (§2 formula, §3 real numbers),
reference/text_normalization.md (§2 legal forms, §3 dash rule), reference/jsic.md and
reference/sme_definitions.md (§1, §2, §4, §5, §6).
"""

from __future__ import annotations

import random
from datetime import date

import pytest
from stdnum.jp import cn as stdnum_cn

from crm.rules.company_size import is_startup, size_class
from crm.rules.corporate_number import (
    corporate_number_check_digit,
    is_valid_corporate_number,
    normalise_corporate_number,
)
from crm.rules.industries import (
    GROUP_EXCLUDED,
    GROUP_MANUFACTURING,
    GROUP_MIXED,
    GROUP_RETAIL,
    GROUP_SERVICE,
    GROUP_UNDECIDED,
    GROUP_WHOLESALE,
    SME_THRESHOLDS,
    is_valid_industry,
    sme_industry_group,
)
from crm.rules.names import kana_key, name_key, normalise_name, search_keys

# --- 法人番号 ------------------------------------------------------------------------

# reference/houjin_bangou.md §3: numbers found in public sources; all pass the check.
REAL_CORPORATE_NUMBERS = [
    "4000012090001",  # 経済産業省
    "7000012050002",  # 国税庁
    "1180301018771",  # トヨタ自動車株式会社
    "1130001011420",  # 任天堂株式会社
    "5010401067252",  # ソニーグループ株式会社
    "5010001008846",  # 株式会社三菱ＵＦＪ銀行
    "8120001059652",  # 積水ハウス株式会社
    "8120001059917",  # 大和ハウス工業株式会社
    "5070001032626",  # 株式会社フィルイン
    "4011001098993",  # 株式会社FoundingBase
    "1000011000005",  # 国立国会図書館
]

# reference/houjin_bangou.md §3: wrong numbers seen in public code.
WRONG_CORPORATE_NUMBERS = [
    "7010401067252",  # labelled ソニーグループ
    "7010401060001",  # labelled ソフトバンクグループ
    "6010001008846",  # labelled 三菱UFJ
    "1010001008896",  # labelled 住友林業
]


def test_check_digit_of_worked_example_is_seven() -> None:
    assert corporate_number_check_digit("123456789012") == 7


@pytest.mark.parametrize(
    ("base12", "expected"),
    [
        ("000012090001", 4),  # 経済産業省
        ("180301018771", 1),  # トヨタ自動車
        ("000000000000", 9),  # sum 0 → 9, never 0
        ("999999999999", 9),  # sum 162 = 18 × 9 → 9
    ],
)
def test_check_digit_is_nine_minus_weighted_sum_mod_nine(
    base12: str, expected: int
) -> None:
    assert corporate_number_check_digit(base12) == expected


@pytest.mark.parametrize(
    "base12",
    ["12345678901", "1234567890123", "12345678901A", "１２３４５６７８９０１２", ""],
)
def test_check_digit_rejects_anything_but_twelve_ascii_digits(base12: str) -> None:
    with pytest.raises(ValueError, match="12 ASCII digits"):
        corporate_number_check_digit(base12)


def test_check_digit_agrees_with_stdnum_on_random_base_numbers() -> None:
    rng = random.Random(20260401)
    for _ in range(2000):
        base12 = "".join(rng.choices("0123456789", k=12))
        assert corporate_number_check_digit(base12) == int(
            stdnum_cn.calc_check_digit(base12)
        ), base12


def test_validity_agrees_with_stdnum_on_random_numbers() -> None:
    rng = random.Random(20250401)
    valid_seen = 0
    for i in range(2000):
        base12 = "".join(rng.choices("0123456789", k=12))
        # Give half the samples stdnum's check digit so both outcomes are exercised.
        first = (
            stdnum_cn.calc_check_digit(base12) if i % 2 else rng.choice("0123456789")
        )
        number = first + base12
        expected = stdnum_cn.is_valid(number)
        assert is_valid_corporate_number(number) is expected, number
        valid_seen += expected
    assert 1000 <= valid_seen < 2000


@pytest.mark.parametrize("number", REAL_CORPORATE_NUMBERS)
def test_real_corporate_numbers_are_valid(number: str) -> None:
    assert is_valid_corporate_number(number) is True


@pytest.mark.parametrize("number", WRONG_CORPORATE_NUMBERS)
def test_mislabelled_corporate_numbers_fail_the_check_digit(number: str) -> None:
    assert is_valid_corporate_number(number) is False


def test_well_formed_number_is_valid_even_if_it_belongs_to_someone_else() -> None:
    # Listed somewhere as トヨタ but not Toyota's number: validation proves form only.
    assert is_valid_corporate_number("5180001008846") is True


@pytest.mark.parametrize(
    "value",
    [
        "",
        "T",
        "113000101142",  # 12 digits
        "11300010114200",  # 14 digits
        "113000101142A",
        "A130001011420",
        "0130001011420",  # a check digit is never 0
        "TT1130001011420",
        "1130001011420T",
        "１١٣0001011420",  # non-ASCII digits NFKC does not convert
        "1130001O11420",  # letter O, not zero
    ],
)
def test_malformed_corporate_numbers_are_invalid(value: str) -> None:
    assert is_valid_corporate_number(value) is False


@pytest.mark.parametrize(
    "value",
    [
        "1130001011420",
        " 1130001011420 ",
        "T1130001011420",
        "Ｔ1130001011420",
        "t1130001011420",
        "T 1130001011420",
        "１１３０００１０１１４２０",
        "Ｔ１１３０００１０１１４２０",
        "1-1300-0101-1420",
        "１－１３００－０１０１－１４２０",
        "1−1300−0101−1420",
        "1130 0010 11420",
        "1130\u30000010\u300011420",
        "1130001011420\u200b",
    ],
)
def test_typed_corporate_number_forms_normalise_to_thirteen_digits(value: str) -> None:
    assert normalise_corporate_number(value) == "1130001011420"
    assert is_valid_corporate_number(value) is True


def test_normalise_corporate_number_keeps_invalid_content() -> None:
    assert normalise_corporate_number(" 12-34ab ") == "1234ab"


# --- name normalisation ------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        "株式会社テスト",  # 前株
        "テスト株式会社",  # 後株
        "㈱テスト",
        "テスト㈱",
        "(株)ﾃｽﾄ",
        "（株）テスト",
        "テスト（株）",
        "テスト　㈱",
        "㍿テスト",
        "ﾃｽﾄ株式会社",
        " 株式会社 テ ス ト ",
        "テスト\u00a0(株)",
        "テスト\u200b株式会社",
        "カブシキガイシャテスト",
        "ｶﾌﾞｼｷｶﾞｲｼｬ ﾃｽﾄ",
        "テスト カブシキカイシャ",
    ],
)
def test_spellings_of_one_company_share_a_name_key(spelling: str) -> None:
    assert name_key(spelling) == "テスト"


@pytest.mark.parametrize(
    "spelling",
    [
        "株式会社ABCコーヒー",
        "ＡＢＣｺｰﾋｰ株式会社",
        "(株)abcｺ-ﾋ-",
        "㈱ ＡＢＣ コ－ヒ－",
        "abc コ−ヒ− ㈱",
        "ABCコーヒー",
        "カブシキガイシャ ABC コーヒー",
        "ＡＢＣ　コーヒー（株）",
    ],
)
def test_spellings_with_latin_and_long_vowels_share_a_name_key(spelling: str) -> None:
    assert name_key(spelling) == "ABCコーヒー"


@pytest.mark.parametrize(
    "spelling",
    [
        "ｺ-ﾋ-",  # half-width with ASCII hyphen
        "ｺｰﾋｰ",  # half-width long vowel
        "コ－ヒ－",  # FULLWIDTH HYPHEN-MINUS
        "コ−ヒ−",  # MINUS SIGN
        "コ‐ヒ‐",  # HYPHEN
        "コ―ヒ―",  # HORIZONTAL BAR
        "コ–ヒ–",  # EN DASH
        "コ—ヒ—",  # EM DASH
        "コーヒー",
    ],
)
def test_dash_after_katakana_becomes_long_vowel(spelling: str) -> None:
    assert normalise_name(spelling) == "コーヒー"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A-1", "A-1"),
        ("Ａ－１", "A-1"),
        ("テスト-1", "テスト-1"),
        ("テスト－１", "テスト-1"),
        ("テスト−A", "テスト-A"),
        ("テスト - 1", "テスト-1"),
        ("東京-大阪", "東京-大阪"),  # after kanji
        ("ABC−DEF", "ABC-DEF"),
        ("-テスト", "-テスト"),  # nothing before it
        ("てすと-", "てすと-"),  # after hiragana
        ("ｺｰﾋｰ--", "コーヒーーー"),  # a run after katakana stays long vowels
    ],
)
def test_other_dashes_become_ascii_hyphen(value: str, expected: str) -> None:
    assert normalise_name(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "テスト 株式会社",
        "テスト\u3000株式会社",
        "テスト\u00a0株式会社",
        "テスト\u200b株式会社",
        "テスト\ufeff株式会社",
        "テスト\t株式会社\n",
        " テ ス ト 株 式 会 社 ",
    ],
)
def test_normalise_name_removes_all_spaces(value: str) -> None:
    assert normalise_name(value) == "テスト株式会社"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc商事", "ABC商事"),
        ("ａｂｃ商事", "ABC商事"),
        ("Straße", "STRAßE"),  # only ASCII is upper-cased
        ("㈱テスト", "(株)テスト"),
        ("（株）テスト", "(株)テスト"),
        ("㍿テスト", "株式会社テスト"),
        ("ﾊﾟﾋﾟﾌﾟ", "パピプ"),
        ("てすと", "てすと"),  # hiragana kept
        ("霞ヶ関", "霞ヶ関"),  # small ke kept
        ("①Ⅲ", "1III"),
        ("", ""),
    ],
)
def test_normalise_name_applies_nfkc_and_upper_cases_ascii(
    value: str, expected: str
) -> None:
    assert normalise_name(value) == expected


@pytest.mark.parametrize("value", ["テスト〜ABC", "テスト～ABC", "テスト~ABC"])
def test_wave_dash_and_fullwidth_tilde_are_unified(value: str) -> None:
    assert normalise_name(value) == "テスト~ABC"


@pytest.mark.parametrize(
    "value",
    [
        "有限会社テスト", "㈲テスト", "テスト(有)", "ユウゲンガイシャテスト",
        "ユウゲンカイシャテスト", "合同会社テスト", "テスト(同)",
        "ゴウドウガイシャテスト", "ゴウドウカイシャテスト", "合資会社テスト",
        "(資)テスト", "㈾テスト", "ゴウシガイシャテスト", "合名会社テスト",
        "(名)テスト", "㈴テスト", "ゴウメイガイシャテスト", "一般社団法人テスト",
        "テスト(一社)", "イッパンシャダンホウジンテスト", "一般財団法人テスト",
        "(一財)テスト", "公益社団法人テスト", "(公社)テスト", "公益財団法人テスト",
        "(公財)テスト", "社団法人テスト", "㈳テスト", "財団法人テスト", "㈶テスト",
        "特定非営利活動法人テスト", "NPO法人テスト", "ＮＰＯ法人テスト",
        "npo法人テスト", "医療法人社団テスト", "医療法人財団テスト", "医療法人テスト",
        "社会福祉法人テスト", "学校法人テスト", "宗教法人テスト", "独立行政法人テスト",
        "国立研究開発法人テスト", "国立大学法人テスト", "公立大学法人テスト",
        "事業協同組合テスト", "テスト協同組合", "㈿テスト", "有限責任事業組合テスト",
        "弁理士法人テスト", "特許業務法人テスト", "弁護士法人テスト",
        "税理士法人テスト", "監査法人テスト",
    ],
)  # fmt: skip
def test_name_key_strips_every_legal_form(value: str) -> None:
    assert name_key(value) == "テスト"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("株式会社", "株式会社"),
        ("(株)", "(株)"),
        ("㈱", "(株)"),
        ("カブシキガイシャ", "カブシキガイシャ"),
        ("", ""),
    ],
)
def test_name_key_keeps_the_name_if_only_a_legal_form_is_left(
    value: str, expected: str
) -> None:
    assert name_key(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("テスト東京株式会社大阪", "テスト東京大阪"),  # designator in the middle
        ("同志社", "同志社"),  # bare abbreviation characters are not stripped
        ("名古屋有限", "名古屋有限"),
        ("てすと株式会社", "てすと"),  # hiragana kept in name_key
    ],
)
def test_name_key_only_removes_whole_designators(value: str, expected: str) -> None:
    assert name_key(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "テスト",
        "ﾃｽﾄ",
        "てすと",
        "テスト株式会社",
        "かぶしきがいしゃてすと",
        "ｶﾌﾞｼｷｶﾞｲｼｬﾃｽﾄ",
        "ゆうげんがいしゃ てすと",
        "（株）てすと",
    ],
)
def test_kana_key_unifies_hiragana_katakana_and_legal_forms(value: str) -> None:
    assert kana_key(value) == "テスト"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("こ-ひ-", "コーヒー"),  # hiragana and hyphens: dash rule after conversion
        ("こーひー", "コーヒー"),
        ("ＡＢＣこーひー", "ABCコーヒー"),
        ("東京てすと", "東京テスト"),  # kanji kept
    ],
)
def test_kana_key_converts_before_the_dash_rule(value: str, expected: str) -> None:
    assert kana_key(value) == expected


def test_search_keys_return_name_key_and_kana_key() -> None:
    assert search_keys("㈱ てすと") == ("てすと", "テスト")


# --- SME industry group --------------------------------------------------------------


@pytest.mark.parametrize(
    ("industry", "expected"),
    [
        ("E", GROUP_MANUFACTURING),
        ("56", GROUP_RETAIL),
        ("7611", GROUP_RETAIL),  # via 中分類 76 飲食店
        ("M76", GROUP_RETAIL),
        ("m76", GROUP_RETAIL),
        (" M7611 ", GROUP_RETAIL),
        ("77", GROUP_RETAIL),
        ("75", GROUP_SERVICE),  # 宿泊業
        ("M", GROUP_MIXED),  # 75 service, 76–77 retail
        ("411", GROUP_SERVICE),
        ("4111", GROUP_SERVICE),  # via 小分類 411
        ("413", GROUP_MANUFACTURING),  # 新聞業: G default
        ("38", GROUP_SERVICE),
        ("39", GROUP_SERVICE),
        ("3711", GROUP_MANUFACTURING),  # 通信業: G default
        ("G", GROUP_MIXED),  # 37 manufacturing, 38–39 service
        ("791", GROUP_MANUFACTURING),  # 旅行業 overrides N
        ("7911", GROUP_MANUFACTURING),
        ("78", GROUP_SERVICE),  # N default
        ("N", GROUP_MIXED),  # 791 旅行業 manufacturing
        ("50", GROUP_WHOLESALE),
        ("5511", GROUP_WHOLESALE),
        ("61", GROUP_RETAIL),
        ("I", GROUP_MIXED),  # 50–55 wholesale, 56–61 retail
        ("693", GROUP_SERVICE),  # 駐車場業
        ("691", GROUP_MANUFACTURING),  # 不動産賃貸業: K default
        ("70", GROUP_SERVICE),  # 物品賃貸業
        ("68", GROUP_MANUFACTURING),
        ("L", GROUP_SERVICE),
        ("71", GROUP_SERVICE),
        ("01", GROUP_MANUFACTURING),
        ("09", GROUP_MANUFACTURING),
        ("J", GROUP_MANUFACTURING),
        ("R", GROUP_SERVICE),
        ("96", GROUP_SERVICE),
        ("S", GROUP_EXCLUDED),
        ("97", GROUP_EXCLUDED),
        ("T", GROUP_UNDECIDED),
        ("99", GROUP_UNDECIDED),
        ("Ｅ", GROUP_MANUFACTURING),  # full-width letter
    ],
)
def test_sme_industry_group_uses_most_specific_rule(
    industry: str, expected: str
) -> None:
    assert sme_industry_group(industry) == expected


@pytest.mark.parametrize(
    "industry",
    [
        None,
        "",
        " ",
        "Z",
        "U",
        "00",
        "5",
        "12345",
        "E56",
        "M7",
        "ABC",
        "5A",
        "製造業",
        "E-09",
    ],
)
def test_sme_industry_group_is_none_for_anything_but_a_jsic_code(
    industry: str | None,
) -> None:
    assert sme_industry_group(industry) is None


@pytest.mark.parametrize("letter", "ABCDEFGHIJKLMNOPQRST")
def test_every_major_division_has_a_group(letter: str) -> None:
    assert sme_industry_group(letter) is not None


def test_every_middle_division_number_has_a_group() -> None:
    missing = [n for n in range(1, 100) if sme_industry_group(f"{n:02d}") is None]
    assert missing == []


# JSIC 中分類 ranges of each 大分類: (letter, first, last).
MAJOR_RANGES = [
    ("A", 1, 2), ("B", 3, 4), ("C", 5, 5), ("D", 6, 8), ("E", 9, 32), ("F", 33, 36),
    ("G", 37, 41), ("H", 42, 49), ("I", 50, 61), ("J", 62, 67), ("K", 68, 70),
    ("L", 71, 74), ("M", 75, 77), ("N", 78, 80), ("O", 81, 82), ("P", 83, 85),
    ("Q", 86, 87), ("R", 88, 96), ("S", 97, 98), ("T", 99, 99),
]  # fmt: skip


@pytest.mark.parametrize(("letter", "first", "last"), MAJOR_RANGES)
def test_letter_prefix_must_match_the_middle_division_range(
    letter: str, first: int, last: int
) -> None:
    other = "A" if letter != "A" else "B"
    for number in (first, last):
        assert sme_industry_group(f"{letter}{number:02d}") is not None
        assert sme_industry_group(f"{other}{number:02d}") is None
    if first > 1:
        assert sme_industry_group(f"{letter}{first - 1:02d}") is None
    if last < 99:
        assert sme_industry_group(f"{letter}{last + 1:02d}") is None


@pytest.mark.parametrize(
    ("industry", "expected"), [("E", True), ("7611", True), ("X", False)]
)
def test_is_valid_industry_accepts_only_known_codes(
    industry: str, expected: bool
) -> None:
    assert is_valid_industry(industry) is expected


# --- size class --------------------------------------------------------------------


def test_sme_thresholds_match_the_sme_basic_act() -> None:
    assert {group: tuple(limits) for group, limits in SME_THRESHOLDS.items()} == {
        GROUP_MANUFACTURING: (300_000_000, 300, 20),
        GROUP_WHOLESALE: (100_000_000, 100, 5),
        GROUP_SERVICE: (50_000_000, 100, 5),
        GROUP_RETAIL: (50_000_000, 50, 5),
    }


# (industry code, capital limit, employee limit, 小規模 employee limit)
GROUP_LIMITS = [
    pytest.param("09", 300_000_000, 300, 20, id="manufacturing"),  # 食料品
    pytest.param("50", 100_000_000, 100, 5, id="wholesale"),
    pytest.param("L", 50_000_000, 100, 5, id="service"),
    pytest.param("56", 50_000_000, 50, 5, id="retail"),
]


def _corporation_size(industry: str, capital: int | None, employees: int | None) -> str:
    return size_class(
        kind="corporation", industry=industry, capital_yen=capital, employees=employees
    )


@pytest.mark.parametrize(("industry", "capital", "employees", "micro"), GROUP_LIMITS)
def test_capital_at_the_limit_makes_an_sme(
    industry: str, capital: int, employees: int, micro: int
) -> None:
    assert _corporation_size(industry, capital, employees + 1) == "sme"
    assert _corporation_size(industry, capital + 1, employees + 1) == "midsize"


@pytest.mark.parametrize(("industry", "capital", "employees", "micro"), GROUP_LIMITS)
def test_employees_at_the_limit_make_an_sme(
    industry: str, capital: int, employees: int, micro: int
) -> None:
    assert _corporation_size(industry, capital + 1, employees) == "sme"
    assert _corporation_size(industry, capital + 1, employees + 1) == "midsize"


@pytest.mark.parametrize(("industry", "capital", "employees", "micro"), GROUP_LIMITS)
def test_sme_with_employees_at_the_micro_limit_is_micro(
    industry: str, capital: int, employees: int, micro: int
) -> None:
    assert _corporation_size(industry, capital, micro) == "micro"
    assert _corporation_size(industry, capital, micro + 1) == "sme"
    assert _corporation_size(industry, None, micro) == "micro"
    assert _corporation_size(industry, None, micro + 1) == "sme"


@pytest.mark.parametrize(
    ("employees", "expected"), [(301, "midsize"), (2000, "midsize"), (2001, "large")]
)
def test_non_sme_is_midsize_up_to_two_thousand_employees(
    employees: int, expected: str
) -> None:
    assert _corporation_size("09", 300_000_001, employees) == expected


@pytest.mark.parametrize(
    ("capital", "employees", "expected"),
    [
        (300_000_000, None, "sme"),  # capital passes; micro needs employees
        (1_000_000, None, "sme"),
        (300_000_001, None, "unknown"),  # employees could still pass
        (None, 301, "unknown"),  # capital could still pass
        (None, None, "unknown"),
        (None, 300, "sme"),
        (None, 20, "micro"),
        (300_000_000, 2500, "sme"),  # SME by capital, above the micro limit
        (0, 0, "micro"),
    ],
)
def test_missing_data_gives_unknown_only_when_it_matters(
    capital: int | None, employees: int | None, expected: str
) -> None:
    assert _corporation_size("E", capital, employees) == expected


@pytest.mark.parametrize(
    ("capital", "employees", "expected"),
    [
        (0, 301, "midsize"),  # capital ignored: employee test fails
        (None, 301, "midsize"),
        (10**12, 300, "sme"),  # capital ignored: employee test passes
        (10**12, 20, "micro"),
        (0, None, "unknown"),
        (0, 2001, "large"),
    ],
)
def test_sole_proprietor_is_classified_by_employees_only(
    capital: int | None, employees: int | None, expected: str
) -> None:
    assert (
        size_class(
            kind="sole_proprietor",
            industry="09",
            capital_yen=capital,
            employees=employees,
        )
        == expected
    )


def test_sole_proprietor_in_retail_uses_retail_limits() -> None:
    assert (
        size_class(
            kind="sole_proprietor", industry="56", capital_yen=None, employees=51
        )
        == "midsize"
    )
    assert (
        size_class(kind="sole_proprietor", industry="56", capital_yen=None, employees=5)
        == "micro"
    )


@pytest.mark.parametrize(
    "kind", ["npo", "general_association", "medical_corporation", "government", ""]
)
def test_size_class_is_unknown_for_kinds_outside_the_sme_basic_act(kind: str) -> None:
    assert size_class(kind=kind, industry="E", capital_yen=0, employees=1) == "unknown"


@pytest.mark.parametrize("industry", [None, "S", "T", "99", "junk"])
def test_size_class_is_unknown_without_a_usable_industry_group(
    industry: str | None,
) -> None:
    assert _corporation_size(industry, 0, 1) == "unknown"  # type: ignore[arg-type]


@pytest.mark.parametrize(("capital", "employees"), [(-1, 10), (10, -1)])
def test_size_class_rejects_negative_figures(capital: int, employees: int) -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        _corporation_size("E", capital, employees)


# --- startup (JPO) -----------------------------------------------------------------

FOUNDED = date(2016, 11, 21)


def _corporation_is_startup(
    *,
    founded_on: date | None = FOUNDED,
    employees: int | None = 20,
    capital_yen: int | None = None,
    industry: str | None = "E",
    controlled: bool = False,
    today: date = date(2026, 11, 20),
) -> bool:
    return is_startup(
        kind="corporation",
        founded_on=founded_on,
        employees=employees,
        capital_yen=capital_yen,
        industry=industry,
        controlled_by_large_company=controlled,
        today=today,
    )


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2016, 11, 21), True),  # founding day
        (date(2026, 11, 20), True),  # last day within 10 years
        (date(2026, 11, 21), False),  # 10th anniversary
        (date(2030, 1, 1), False),
        (date(2016, 11, 20), False),  # not founded yet
    ],
)
def test_corporation_is_startup_only_within_ten_years(
    today: date, expected: bool
) -> None:
    assert _corporation_is_startup(today=today) is expected


@pytest.mark.parametrize(
    ("founded_on", "today", "expected"),
    [
        (date(2016, 2, 29), date(2026, 2, 28), True),
        (date(2016, 2, 29), date(2026, 3, 1), False),
        (date(2020, 2, 29), date(2030, 2, 28), True),
        (date(2020, 2, 29), date(2030, 3, 1), False),
        (date(2016, 2, 28), date(2026, 2, 27), True),
        (date(2016, 2, 28), date(2026, 2, 28), False),
    ],
)
def test_ten_year_limit_from_february_twenty_ninth_ends_with_february(
    founded_on: date, today: date, expected: bool
) -> None:
    assert _corporation_is_startup(founded_on=founded_on, today=today) is expected


@pytest.mark.parametrize(
    ("employees", "expected"), [(0, True), (20, True), (21, False)]
)
def test_corporation_needs_at_most_twenty_employees_without_capital_test(
    employees: int, expected: bool
) -> None:
    assert _corporation_is_startup(employees=employees) is expected


@pytest.mark.parametrize("industry", ["50", "56", "7611", "L", "39"])
@pytest.mark.parametrize(("employees", "expected"), [(5, True), (6, False)])
def test_commerce_and_service_corporation_needs_at_most_five_employees(
    industry: str, employees: int, expected: bool
) -> None:
    assert _corporation_is_startup(industry=industry, employees=employees) is expected


@pytest.mark.parametrize("industry", [None, "T", "junk"])
@pytest.mark.parametrize(
    ("employees", "expected"), [(5, True), (6, False), (20, False)]
)
def test_corporation_without_usable_industry_gets_the_stricter_employee_limit(
    industry: str | None, employees: int, expected: bool
) -> None:
    assert _corporation_is_startup(industry=industry, employees=employees) is expected


@pytest.mark.parametrize(
    ("capital", "employees", "expected"),
    [
        (300_000_000, 1000, True),
        (300_000_001, 1000, False),
        (300_000_000, None, True),
        (300_000_001, None, False),
        (300_000_001, 20, True),  # employee test still passes
        (None, None, False),
    ],
)
def test_capital_up_to_three_hundred_million_yen_is_enough(
    capital: int | None, employees: int | None, expected: bool
) -> None:
    assert _corporation_is_startup(capital_yen=capital, employees=employees) is expected


def test_controlled_corporation_is_never_a_startup() -> None:
    assert _corporation_is_startup(controlled=True, capital_yen=1, employees=1) is False


def test_corporation_without_founding_date_is_not_a_startup() -> None:
    assert _corporation_is_startup(founded_on=None, employees=1) is False


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2026, 11, 20), True), (date(2026, 11, 21), False)],
)
def test_sole_proprietor_is_startup_within_ten_years_regardless_of_size(
    today: date, expected: bool
) -> None:
    assert (
        is_startup(
            kind="sole_proprietor",
            founded_on=FOUNDED,
            employees=5000,
            capital_yen=None,
            industry="56",
            controlled_by_large_company=True,
            today=today,
        )
        is expected
    )


def test_sole_proprietor_without_founding_date_is_not_a_startup() -> None:
    assert (
        is_startup(
            kind="sole_proprietor",
            founded_on=None,
            employees=1,
            capital_yen=None,
            industry="E",
            controlled_by_large_company=False,
            today=date(2026, 1, 1),
        )
        is False
    )


@pytest.mark.parametrize("kind", ["npo", "general_association", "government", ""])
def test_other_kinds_are_never_startups(kind: str) -> None:
    assert (
        is_startup(
            kind=kind,
            founded_on=date(2025, 1, 1),
            employees=1,
            capital_yen=1,
            industry="E",
            controlled_by_large_company=False,
            today=date(2026, 1, 1),
        )
        is False
    )
