"""The cabinet-order special cases of the SME definition and coarse JSIC codes.

Sources: reference/sme_definitions.md §1 (ゴム製品製造業 3億円/900人, ソフトウェア業・
情報処理サービス業 3億円/300人, 旅館業 5千万円/200人) and §2 (小規模企業者: 宿泊業・
娯楽業 20人); reference/jsic.md (most specific code wins); issue 16 items 1–2. The
rules are rows of seeds/data/jsic_sme_rules.csv (seeds/data/README.md).
"""

from __future__ import annotations

import pytest

from crm.rules.company_size import size_class
from crm.rules.industries import (
    GROUP_MANUFACTURING,
    GROUP_MIXED,
    GROUP_RETAIL,
    GROUP_SERVICE,
    GROUP_WHOLESALE,
    industry_needs_more_detail,
    sme_industry_group,
)


def _size(industry: str, capital: int | None, employees: int | None) -> str:
    return size_class(
        kind="corporation", industry=industry, capital_yen=capital, employees=employees
    )


# --- the three examples of the issue ------------------------------------------------


def test_software_company_with_two_hundred_million_and_two_hundred_staff_is_sme() -> (
    None
):
    assert _size("3911", 200_000_000, 200) == "sme"


def test_ryokan_with_eighty_million_and_hundred_fifty_staff_is_sme() -> None:
    assert _size("7511", 80_000_000, 150) == "sme"


def test_rubber_maker_with_five_hundred_million_and_eight_hundred_staff_is_sme() -> (
    None
):
    assert _size("1991", 500_000_000, 800) == "sme"


# --- both sides of every special-case limit -----------------------------------------

# (code, capital limit, employee limit, 小規模 limit)
SPECIAL_LIMITS = [
    pytest.param("1991", 300_000_000, 900, 20, id="rubber-1991"),
    pytest.param("192", 300_000_000, 900, 20, id="rubber-footwear-192"),
    pytest.param("391", 300_000_000, 300, 5, id="software-391"),
    pytest.param("3911", 300_000_000, 300, 5, id="software-3911"),
    pytest.param("3914", 300_000_000, 300, 5, id="game-software-3914"),
    pytest.param("3921", 300_000_000, 300, 5, id="information-processing-3921"),
    pytest.param("751", 50_000_000, 200, 20, id="ryokan-751"),
    pytest.param("7511", 50_000_000, 200, 20, id="ryokan-7511"),
    pytest.param("752", 50_000_000, 200, 20, id="simple-lodging-752"),
]


@pytest.mark.parametrize(("code", "capital", "employees", "micro"), SPECIAL_LIMITS)
def test_special_case_capital_limit(
    code: str, capital: int, employees: int, micro: int
) -> None:
    assert _size(code, capital, employees + 1) == "sme"
    assert _size(code, capital + 1, employees + 1) == "midsize"


@pytest.mark.parametrize(("code", "capital", "employees", "micro"), SPECIAL_LIMITS)
def test_special_case_employee_limit(
    code: str, capital: int, employees: int, micro: int
) -> None:
    assert _size(code, capital + 1, employees) == "sme"
    assert _size(code, capital + 1, employees + 1) == "midsize"


@pytest.mark.parametrize(("code", "capital", "employees", "micro"), SPECIAL_LIMITS)
def test_special_case_micro_limit(
    code: str, capital: int, employees: int, micro: int
) -> None:
    assert _size(code, 1_000_000, micro) == "micro"
    assert _size(code, 1_000_000, micro + 1) == "sme"


@pytest.mark.parametrize(
    ("code", "capital", "employees", "micro"),
    [
        # 宿泊業 other than 旅館業 and 娯楽業: service limits, 小規模 up to 20.
        pytest.param("759", 50_000_000, 100, 20, id="other-lodging-759"),
        pytest.param("7591", 50_000_000, 100, 20, id="other-lodging-7591"),
        pytest.param("80", 50_000_000, 100, 20, id="amusement-80"),
        pytest.param("8011", 50_000_000, 100, 20, id="amusement-8011"),
    ],
)
def test_lodging_and_amusement_small_enterprise_limit(
    code: str, capital: int, employees: int, micro: int
) -> None:
    assert _size(code, capital, employees + 1) == "sme"
    assert _size(code, capital + 1, employees + 1) == "midsize"
    assert _size(code, capital + 1, employees) == "sme"
    assert _size(code, 1_000_000, micro) == "micro"
    assert _size(code, 1_000_000, micro + 1) == "sme"


@pytest.mark.parametrize(
    "code",
    [
        "1911",  # 自動車タイヤ・チューブ製造業: excluded from the ゴム製品 case
        "191",
        "1931",  # ゴムベルト製造業 (工業用ベルト): excluded
        "18",  # プラスチック製品製造業: no special case
        "E",
    ],
)
def test_tyres_and_industrial_belts_keep_the_manufacturing_limits(code: str) -> None:
    assert _size(code, 300_000_000, 301) == "sme"
    assert _size(code, 300_000_001, 300) == "sme"
    assert _size(code, 300_000_001, 301) == "midsize"
    assert _size(code, 300_000_001, 800) == "midsize"


@pytest.mark.parametrize("code", ["3922", "3929", "38", "411"])
def test_other_information_services_keep_the_service_limits(code: str) -> None:
    assert _size(code, 50_000_000, 101) == "sme"
    assert _size(code, 50_000_001, 100) == "sme"
    assert _size(code, 50_000_001, 101) == "midsize"
    assert _size(code, 200_000_000, 200) == "midsize"
    assert _size(code, 1_000_000, 5) == "micro"
    assert _size(code, 1_000_000, 6) == "sme"


def test_special_cases_keep_their_group() -> None:
    assert sme_industry_group("3911") == GROUP_SERVICE
    assert sme_industry_group("7511") == GROUP_SERVICE
    assert sme_industry_group("1991") == GROUP_MANUFACTURING


# --- coarse codes: a mixed 大分類 letter does not decide --------------------------


@pytest.mark.parametrize("letter", ["G", "I", "K", "M", "N"])
def test_mixed_major_division_letter_has_no_single_group(letter: str) -> None:
    assert sme_industry_group(letter) == GROUP_MIXED
    assert industry_needs_more_detail(letter)


@pytest.mark.parametrize("letter", ["A", "D", "E", "H", "J", "L", "O", "P", "R"])
def test_uniform_major_division_letter_decides(letter: str) -> None:
    assert sme_industry_group(letter) not in (GROUP_MIXED, None)
    assert not industry_needs_more_detail(letter)


def test_wholesale_or_retail_letter_is_unknown_where_the_groups_disagree() -> None:
    # 8千万円 and 80人: a wholesaler (1億円/100人) but not a retailer (5千万円/50人).
    assert _size("I", 80_000_000, 80) == "unknown"
    assert _size("50", 80_000_000, 80) == "sme"
    assert _size("56", 80_000_000, 80) == "midsize"


def test_wholesale_or_retail_letter_decides_where_the_groups_agree() -> None:
    assert _size("I", 50_000_000, 40) == "sme"  # within both
    assert _size("I", 3_000_000, 5) == "micro"
    assert _size("I", 100_000_001, 101) == "midsize"  # outside both


def test_information_and_communications_letter_is_unknown_for_a_mid_company() -> None:
    # G: 通信業 (製造業その他 3億円/300人) or 放送業 (サービス業 5千万円/100人).
    assert _size("G", 200_000_000, 200) == "unknown"
    assert _size("37", 200_000_000, 200) == "sme"
    assert _size("38", 200_000_000, 200) == "midsize"


def test_manufacturing_letter_decides_with_the_manufacturing_limits() -> None:
    # E's 中分類 are all 製造業その他: the letter decides (3億円/300人); the ゴム製品
    # special case (900人) needs 中分類 19 or finer.
    assert not industry_needs_more_detail("E")
    assert sme_industry_group("E") == GROUP_MANUFACTURING
    assert _size("E", 500_000_000, 300) == "sme"
    assert _size("E", 500_000_000, 301) == "midsize"
    assert _size("19", 500_000_000, 301) == "unknown"


def test_middle_division_with_special_cases_under_it_needs_more_detail() -> None:
    # 39 情報サービス業: software 3億円/300人, 3922 情報提供 5千万円/100人.
    assert industry_needs_more_detail("39")
    assert _size("39", 200_000_000, 200) == "unknown"
    assert _size("39", 10_000_000, 50) == "sme"
    # 19 ゴム製品: the tyre makers keep 300人.
    assert _size("19", 500_000_000, 800) == "unknown"
    assert _size("19", 500_000_000, 300) == "sme"
    # 75 宿泊業: 旅館業 200人, other lodging 100人.
    assert _size("75", 80_000_000, 150) == "unknown"


@pytest.mark.parametrize(
    ("code", "group"),
    [("50", GROUP_WHOLESALE), ("61", GROUP_RETAIL), ("76", GROUP_RETAIL)],
)
def test_middle_division_codes_still_decide(code: str, group: str) -> None:
    assert sme_industry_group(code) == group
    assert not industry_needs_more_detail(code)
