"""Subsidy estimates: integer yen rounded down, per-case and per-company caps."""

import datetime as dt

import pytest

from programs.services.subsidies import subsidy_estimate
from support_network.errors import ValidationFailed
from tests.crm.factories import CompanyFactory
from tests.programs.factories import SubsidyOutcomeFactory, program

FY = 2030


def estimate(code, *items, **kwargs):
    return subsidy_estimate(
        program=program(code), fiscal_year=FY, items=list(items), **kwargs
    )


def item(right, cost_yen, renewal=False):
    return {"right": right, "cost_yen": cost_yen, "renewal": renewal}


# --- 外国出願 (overseas_filing): 1/2, per case 150万 / 60万, 300万 per company a year --


@pytest.mark.parametrize(
    ("right", "cost_yen", "eligible_yen", "explanation"),
    [
        (
            "patent",
            2_000_000,
            1_000_000,
            "特許: 2,000,000円 × 1/2 = 1,000,000円（1件上限 1,500,000円）",
        ),
        (
            "patent",
            2_999_999,
            1_499_999,
            "特許: 2,999,999円 × 1/2 = 1,499,999円（1件上限 1,500,000円）",
        ),
        (
            "patent",
            3_000_000,
            1_500_000,
            "特許: 3,000,000円 × 1/2 = 1,500,000円（1件上限 1,500,000円）",
        ),
        (
            "patent",
            3_000_002,
            1_500_000,
            "特許: 3,000,002円 × 1/2 = 1,500,001円 → 1,500,000円（1件上限 1,500,000円）",
        ),
        (
            "trademark",
            1_200_000,
            600_000,
            "商標: 1,200,000円 × 1/2 = 600,000円（1件上限 600,000円）",
        ),
        (
            "trademark",
            1_200_002,
            600_000,
            "商標: 1,200,002円 × 1/2 = 600,001円 → 600,000円（1件上限 600,000円）",
        ),
        (
            "utility_model",
            1_199_999,
            599_999,
            "実用新案: 1,199,999円 × 1/2 = 599,999円（1件上限 600,000円）",
        ),
        (
            "design",
            1_000_001,
            500_000,
            "意匠: 1,000,001円 × 1/2 = 500,000円（1件上限 600,000円）",
        ),
        ("design", 0, 0, "意匠: 0円 × 1/2 = 0円（1件上限 600,000円）"),
        (
            "utility_model",
            1_200_000,
            600_000,
            "実用新案: 1,200,000円 × 1/2 = 600,000円（1件上限 600,000円）",
        ),
        (
            "utility_model",
            1_200_002,
            600_000,
            "実用新案: 1,200,002円 × 1/2 = 600,001円 → 600,000円（1件上限 600,000円）",
        ),
        (
            "design",
            1_200_000,
            600_000,
            "意匠: 1,200,000円 × 1/2 = 600,000円（1件上限 600,000円）",
        ),
        (
            "design",
            1_200_002,
            600_000,
            "意匠: 1,200,002円 × 1/2 = 600,001円 → 600,000円（1件上限 600,000円）",
        ),
    ],
)
def test_overseas_filing_pays_half_rounded_down_within_the_per_case_cap(
    network, right, cost_yen, eligible_yen, explanation
):
    result = estimate("overseas_filing", item(right, cost_yen))

    assert result["items"] == [
        {
            "right": right,
            "cost_yen": cost_yen,
            "renewal": False,
            "squatting_countermeasure": False,
            "rate": "1/2",
            "eligible_yen": eligible_yen,
            "explanation": explanation,
        }
    ]
    assert result["total_yen"] == eligible_yen
    assert result["company_cap_yen"] == 3_000_000
    assert result["company_cap_remaining_yen"] == 3_000_000


def test_overseas_filing_stops_at_3_million_per_company_across_items(network):
    result = estimate(
        "overseas_filing",
        item("patent", 3_000_000),
        item("patent", 3_000_000),
        item("patent", 3_000_000),
    )

    assert [i["eligible_yen"] for i in result["items"]] == [1_500_000, 1_500_000, 0]
    assert result["total_yen"] == 3_000_000
    assert result["items"][2]["explanation"] == (
        "特許: 3,000,000円 × 1/2 = 1,500,000円（1件上限 1,500,000円）"
        " → 0円（1企業の年度上限 3,000,000円の残り 0円）"
    )


def test_overseas_filing_cuts_the_item_that_crosses_the_company_cap(network):
    result = estimate(
        "overseas_filing",
        item("patent", 3_000_000),
        item("trademark", 1_200_000),
        item("trademark", 1_200_000),
        item("design", 1_200_000),
    )

    assert [i["eligible_yen"] for i in result["items"]] == [
        1_500_000,
        600_000,
        600_000,
        300_000,
    ]
    assert result["total_yen"] == 3_000_000
    assert result["items"][3]["explanation"].endswith(
        " → 300,000円（1企業の年度上限 3,000,000円の残り 300,000円）"
    )


def test_grants_of_the_same_fiscal_year_reduce_the_company_cap(network):
    company = CompanyFactory()
    counted = [
        (dt.date(2030, 4, 1), 1_500_000, "overseas_filing", "subsidy"),
        (dt.date(2031, 3, 31), 500_000, "overseas_filing", "subsidy"),
    ]
    not_counted = [
        (dt.date(2030, 3, 31), 900_000, "overseas_filing", "subsidy"),  # FY2029
        (dt.date(2031, 4, 1), 900_000, "overseas_filing", "subsidy"),  # FY2031
        (dt.date(2030, 6, 1), 900_000, "counterfeit", "subsidy"),
        (dt.date(2030, 6, 1), 900_000, "overseas_filing", "financing"),
    ]
    for occurred_on, amount_yen, reference, kind in counted + not_counted:
        SubsidyOutcomeFactory(
            case__company=company,
            occurred_on=occurred_on,
            amount_yen=amount_yen,
            reference=reference,
            kind=kind,
        )

    result = estimate(
        "overseas_filing",
        item("patent", 3_000_000),
        item("trademark", 1_200_000),
        company=company,
    )

    assert result["already_granted_yen"] == 2_000_000
    assert result["company_cap_remaining_yen"] == 1_000_000
    assert [i["eligible_yen"] for i in result["items"]] == [1_000_000, 0]
    assert result["total_yen"] == 1_000_000


def test_already_granted_yen_may_be_given_instead_of_looked_up(network):
    result = estimate(
        "overseas_filing", item("patent", 3_000_000), already_granted_yen=3_200_000
    )

    assert result["company_cap_remaining_yen"] == 0
    assert result["total_yen"] == 0


@pytest.mark.parametrize(
    ("granted", "remaining", "eligible_yen"),
    [
        (2_999_999, 1, 1),  # one yen of the year's cap left
        (3_000_000, 0, 0),  # the cap is used up exactly
        (3_000_001, 0, 0),  # over-granted: never a negative remainder
    ],
)
def test_overseas_filing_at_and_past_the_company_cap_of_the_year(
    network, granted, remaining, eligible_yen
):
    result = estimate(
        "overseas_filing", item("design", 1_000_000), already_granted_yen=granted
    )

    assert result["company_cap_remaining_yen"] == remaining
    assert result["items"][0]["eligible_yen"] == eligible_yen


@pytest.mark.parametrize(
    ("code", "cap"),
    [
        ("counterfeit", 4_000_000),
        ("squatted_trademark", 5_000_000),
        ("defensive", 5_000_000),
    ],
)
def test_infringement_company_cap_is_shared_by_several_items(network, code, cap):
    # Two items of 3,000,000 × 2/3 = 2,000,000 each; a third crosses the cap.
    result = estimate(
        code,
        item("trademark", 3_000_000),
        item("trademark", 3_000_000),
        item("trademark", 3_000_000),
    )

    assert [i["eligible_yen"] for i in result["items"]] == [
        2_000_000,
        2_000_000,
        cap - 4_000_000,
    ]
    assert result["total_yen"] == cap


# --- 海外侵害対策 (counterfeit, squatted_trademark, defensive): 2/3 with company caps --


@pytest.mark.parametrize(
    ("code", "cost_yen", "eligible_yen"),
    [
        ("counterfeit", 1_000_000, 666_666),
        ("counterfeit", 6_000_000, 4_000_000),
        ("counterfeit", 6_000_003, 4_000_000),
        ("squatted_trademark", 7_499_999, 4_999_999),
        ("squatted_trademark", 7_500_000, 5_000_000),
        ("squatted_trademark", 7_500_002, 5_000_000),
        ("defensive", 1, 0),
        ("defensive", 7_500_000, 5_000_000),
        ("defensive", 7_500_003, 5_000_000),
    ],
)
def test_infringement_subsidies_pay_two_thirds_up_to_the_company_cap(
    network, code, cost_yen, eligible_yen
):
    result = estimate(code, item("trademark", cost_yen))

    assert result["items"][0]["eligible_yen"] == eligible_yen
    assert result["items"][0]["rate"] == "2/3"
    assert result["total_yen"] == eligible_yen


def test_counterfeit_explains_the_company_cap_it_applies(network):
    result = estimate("counterfeit", item("design", 6_000_003))

    assert result["items"][0]["explanation"] == (
        "意匠: 6,000,003円 × 2/3 = 4,000,002円"
        " → 4,000,000円（1企業の上限 4,000,000円の残り 4,000,000円）"
    )
    assert result["company_cap_yen"] == 4_000_000


def test_counterfeit_cap_counts_grants_of_every_year(network):
    company = CompanyFactory()
    SubsidyOutcomeFactory(
        case__company=company,
        occurred_on=dt.date(2021, 6, 1),
        amount_yen=1_000_000,
        reference="counterfeit",
    )

    result = estimate("counterfeit", item("patent", 6_000_000), company=company)

    assert result["already_granted_yen"] == 1_000_000
    assert result["company_cap_remaining_yen"] == 3_000_000
    assert result["total_yen"] == 3_000_000


# --- 海外知財訴訟保険 (litigation_insurance): 1/2, renewal 1/3, no cap -----------------


@pytest.mark.parametrize(
    ("cost_yen", "renewal", "eligible_yen", "explanation"),
    [
        (300_001, False, 150_000, "特許: 300,001円 × 1/2 = 150,000円"),
        (300_000, True, 100_000, "特許（更新）: 300,000円 × 1/3 = 100,000円"),
        (100, True, 33, "特許（更新）: 100円 × 1/3 = 33円"),
        (
            100_000_000,
            False,
            50_000_000,
            "特許: 100,000,000円 × 1/2 = 50,000,000円",
        ),
    ],
)
def test_litigation_insurance_pays_half_or_a_third_on_renewal_without_cap(
    network, cost_yen, renewal, eligible_yen, explanation
):
    result = estimate("litigation_insurance", item("patent", cost_yen, renewal))

    assert result["items"][0]["eligible_yen"] == eligible_yen
    assert result["items"][0]["rate"] == ("1/3" if renewal else "1/2")
    assert result["items"][0]["explanation"] == explanation
    assert result["company_cap_yen"] is None
    assert result["company_cap_remaining_yen"] is None


# --- Refusals ------------------------------------------------------------------------


def test_a_program_that_is_not_a_subsidy_cannot_be_estimated(network):
    with pytest.raises(ValidationFailed) as caught:
        estimate("ipas", item("patent", 1_000_000))

    assert caught.value.code == "not_eligible"
    assert caught.value.detail == "IPASは補助金ではないため、見積もりできません。"


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (
            [item("patent", 1), item("copyright", 1_000_000)],
            "2件目: 「copyright」はこの補助金の対象の権利ではありません"
            "（対象: 特許、実用新案、意匠、商標）。",
        ),
        (
            [item("patent", -1)],
            "1件目: 費用は0円以上の整数（円）で入力してください。",
        ),
        (
            [item("patent", 1.5)],
            "1件目: 費用は0円以上の整数（円）で入力してください。",
        ),
        (
            [item("patent", 1_000_000, renewal=True)],
            "1件目: この補助金には更新（renewal）の区分がありません。",
        ),
        ([], "見積もる費用を1件以上入力してください。"),
    ],
)
def test_bad_items_are_refused_on_the_items_field(network, items, message):
    with pytest.raises(ValidationFailed) as caught:
        estimate("overseas_filing", *items)

    assert caught.value.field == "items"
    assert caught.value.detail == message


def test_a_large_company_is_not_eligible_for_overseas_filing(network):
    large = CompanyFactory(capital_yen=500_000_000, employees=2001)

    with pytest.raises(ValidationFailed) as caught:
        estimate("overseas_filing", item("patent", 1_000_000), company=large)

    assert caught.value.code == "not_eligible"
    assert "この企業等の規模区分: 大企業" in caught.value.detail


def test_the_size_rule_of_overseas_filing_does_not_apply_to_sme_groups(network):
    # 中小企業者のグループ / 商工会等 (地域団体商標): association, no size class.
    group = CompanyFactory(
        kind="association", industry="", capital_yen=None, employees=None
    )

    result = estimate("overseas_filing", item("trademark", 1_000_000), company=group)

    assert result["total_yen"] == 500_000


# --- API -----------------------------------------------------------------------------


def test_post_estimate_returns_200_with_items_total_and_remaining_cap(api, staff_a):
    company = CompanyFactory(registered_by=staff_a.organisation)
    SubsidyOutcomeFactory(
        case__company=company, occurred_on=dt.date(2030, 7, 1), amount_yen=2_000_000
    )

    response = api(staff_a).post(
        "/api/v1/programs/overseas_filing/estimate/",
        {
            "company": company.pk,
            "fiscal_year": 2030,
            "items": [
                {"right": "patent", "cost_yen": 2_000_000},
                {"right": "design", "cost_yen": 1_000_000},
            ],
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "items": [
            {
                "right": "patent",
                "cost_yen": 2_000_000,
                "renewal": False,
                "squatting_countermeasure": False,
                "rate": "1/2",
                "eligible_yen": 1_000_000,
                "explanation": "特許: 2,000,000円 × 1/2 = 1,000,000円（1件上限 1,500,000円）",
            },
            {
                "right": "design",
                "cost_yen": 1_000_000,
                "renewal": False,
                "squatting_countermeasure": False,
                "rate": "1/2",
                "eligible_yen": 0,
                "explanation": (
                    "意匠: 1,000,000円 × 1/2 = 500,000円（1件上限 600,000円）"
                    " → 0円（1企業の年度上限 3,000,000円の残り 0円）"
                ),
            },
        ],
        "total_yen": 1_000_000,
        "company_cap_yen": 3_000_000,
        "already_granted_yen": 2_000_000,
        "company_cap_remaining_yen": 1_000_000,
    }


def test_post_estimate_for_litigation_insurance_renewal(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/programs/litigation_insurance/estimate/",
        {
            "fiscal_year": 2030,
            "items": [{"right": "trademark", "cost_yen": 90_000, "renewal": True}],
        },
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["total_yen"] == 30_000
    assert response.json()["company_cap_remaining_yen"] is None


def test_post_estimate_for_a_company_without_private_access_is_a_400(api, staff_b):
    company = CompanyFactory()

    response = api(staff_b).post(
        "/api/v1/programs/overseas_filing/estimate/",
        {"company": company.pk, "fiscal_year": 2030, "items": [item("patent", 1)]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {"company": ["企業等が見つかりません。"]}


def test_post_estimate_of_an_enrolment_program_is_a_400_not_eligible(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/programs/iaca/estimate/",
        {"fiscal_year": 2030, "items": [item("patent", 1)]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "iAcaは補助金ではないため、見積もりできません。",
        "code": "not_eligible",
    }


def test_post_estimate_of_an_unknown_program_is_a_404(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/programs/no_such_program/estimate/",
        {"fiscal_year": 2030, "items": [item("patent", 1)]},
        format="json",
    )

    assert response.status_code == 404
