"""Program rules corrected against their sources (issue 16 items 3–6).

3. 冒認対策商標 has its own per-case cap of 30万円 in 中小企業等外国出願支援事業.
4. 外国出願 is for 中小企業者 and their groups (and 商工会等 for 地域団体商標), not
   universities and research institutes; the unread `variants` block is gone.
5. みなし大企業 are refused by the SME subsidies; VC-IPAS admits accelerators and
   ecosystem builders from FY2025; JETRO 模倣品対策 is for 法人; 海外知財訴訟保険
   needs membership of 日商・全国連・中央会 (a checked condition).
6. `round_down_to`: 1円未満切り捨て by default, 千円 when a program says so.
Sources: seeds/data/README.md.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from programs.models import Enrolment
from programs.services.enrolments import enrolment_apply
from programs.services.subsidies import subsidy_estimate
from support_network.calendar import fiscal_year as fiscal_year_of
from support_network.errors import ValidationFailed
from tests.crm.factories import CompanyFactory
from tests.programs.factories import ProgramRoundFactory, program

FY = 2030
TODAY = dt.date(2026, 11, 21)


def estimate(code, *items, **kwargs):
    return subsidy_estimate(
        program=program(code), fiscal_year=FY, items=list(items), **kwargs
    )


def not_eligible(code, *items, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        estimate(code, *items, **kwargs)
    assert caught.value.code == "not_eligible"
    return caught.value


def sme(**fields):
    fields.setdefault("capital_yen", 10_000_000)
    fields.setdefault("employees", 10)
    return CompanyFactory(**fields)


# --- 3. 冒認対策商標: 30万円 per case ----------------------------------------------


def squatting(cost_yen):
    return {
        "right": "trademark",
        "cost_yen": cost_yen,
        "squatting_countermeasure": True,
    }


def test_a_one_million_squatting_countermeasure_trademark_gets_300_thousand(network):
    result = estimate("overseas_filing", squatting(1_000_000))

    assert result["total_yen"] == 300_000
    assert result["items"][0]["explanation"] == (
        "冒認対策商標: 1,000,000円 × 1/2 = 500,000円 → 300,000円（1件上限 300,000円）"
    )


@pytest.mark.parametrize(
    ("cost_yen", "eligible_yen"),
    [(600_000, 300_000), (600_001, 300_000), (599_999, 299_999), (600_002, 300_000)],
)
def test_squatting_countermeasure_cap_on_both_sides(network, cost_yen, eligible_yen):
    assert estimate("overseas_filing", squatting(cost_yen))["total_yen"] == eligible_yen


def test_an_ordinary_trademark_keeps_the_600_thousand_cap(network):
    result = estimate("overseas_filing", {"right": "trademark", "cost_yen": 1_000_000})

    assert result["total_yen"] == 500_000


def test_squatting_countermeasure_is_only_for_trademarks(network):
    with pytest.raises(ValidationFailed) as caught:
        estimate(
            "overseas_filing",
            {"right": "patent", "cost_yen": 100, "squatting_countermeasure": True},
        )

    assert caught.value.field == "items"
    assert caught.value.detail == "1件目: 冒認対策の区分は商標だけです。"


def test_a_program_without_the_squatting_rule_refuses_the_flag(network):
    with pytest.raises(ValidationFailed) as caught:
        estimate("counterfeit", squatting(100))

    assert caught.value.detail == "1件目: この補助金には冒認対策の区分がありません。"


def test_api_estimate_takes_squatting_countermeasure(api, staff_a):
    response = api(staff_a).post(
        "/api/v1/programs/overseas_filing/estimate/",
        {"fiscal_year": FY, "items": [squatting(1_000_000)]},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["total_yen"] == 300_000
    assert response.json()["items"][0]["squatting_countermeasure"] is True


def test_web_estimate_has_a_squatting_countermeasure_column(staff_a):
    client = Client()
    client.force_login(staff_a.user)
    url = reverse("programs:program-detail", args=["overseas_filing"])
    data = {
        "fiscal_year": str(fiscal_year_of(timezone.localdate())),
        "already_granted_yen": "",
        "items-TOTAL_FORMS": "1",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "20",
        "items-0-right": "trademark",
        "items-0-cost_yen": "1000000",
        "items-0-squatting_countermeasure": "on",
    }

    html = client.post(url, data).content.decode()

    assert "冒認対策商標: 1,000,000円 × 1/2 = 500,000円 → 300,000円" in html
    assert re.search(r'id="estimate-total">300,000円', html)
    rules_html = client.get(url).content.decode()
    assert "冒認対策商標 300,000円" in rules_html


# --- 4. 外国出願: 中小企業者 and their groups ---------------------------------------


@pytest.mark.parametrize("kind", ["university", "research_institute"])
def test_overseas_filing_refuses_universities_and_research_institutes(network, kind):
    applicant = CompanyFactory(kind=kind, industry="", capital_yen=None, employees=None)

    error = not_eligible(
        "overseas_filing", {"right": "patent", "cost_yen": 1}, company=applicant
    )

    assert "外国出願支援の対象は法人（会社）、個人事業主、団体" in error.detail


@pytest.mark.parametrize("kind", ["corporation", "sole_proprietor", "association"])
def test_overseas_filing_accepts_smes_and_groups(network, kind):
    applicant = sme(kind=kind)

    result = estimate(
        "overseas_filing", {"right": "trademark", "cost_yen": 100}, company=applicant
    )

    assert result["total_yen"] == 50


def test_overseas_filing_rules_have_no_unread_variants(network):
    assert "variants" not in program("overseas_filing").rules


# --- 5. みなし大企業, VC-IPAS, JETRO 模倣品, 訴訟保険 --------------------------------


@pytest.mark.parametrize(
    "code", ["overseas_filing", "counterfeit", "squatted_trademark", "defensive"]
)
def test_sme_subsidies_refuse_a_deemed_large_company(network, code):
    deemed = sme(controlled_by_large_company=True)
    right = "trademark"

    error = not_eligible(code, {"right": right, "cost_yen": 100}, company=deemed)

    assert "みなし大企業" in error.detail
    independent = sme(controlled_by_large_company=False)
    assert estimate(code, {"right": right, "cost_yen": 300}, company=independent)[
        "total_yen"
    ] in (150, 200)


def test_litigation_insurance_refuses_a_deemed_large_company(network):
    deemed = sme(controlled_by_large_company=True)

    error = not_eligible(
        "litigation_insurance",
        {"right": "patent", "cost_yen": 100},
        company=deemed,
        confirmed_conditions=["association_member"],
    )

    assert "みなし大企業" in error.detail


def test_counterfeit_is_for_corporations_not_sole_proprietors(network):
    person = sme(kind="sole_proprietor", capital_yen=None)

    error = not_eligible(
        "counterfeit", {"right": "trademark", "cost_yen": 300}, company=person
    )

    assert "この企業等の種別: 個人事業主" in error.detail
    corporation = sme(kind="corporation")
    assert (
        estimate(
            "counterfeit", {"right": "trademark", "cost_yen": 300}, company=corporation
        )["total_yen"]
        == 200
    )


def test_litigation_insurance_needs_confirmed_membership(network):
    company = sme()

    error = not_eligible(
        "litigation_insurance", {"right": "patent", "cost_yen": 100}, company=company
    )

    assert error.about == "confirmed_conditions"
    assert "日本商工会議所・全国商工会連合会・全国中小企業団体中央会" in error.detail
    result = estimate(
        "litigation_insurance",
        {"right": "patent", "cost_yen": 100},
        company=company,
        confirmed_conditions=["association_member"],
    )
    assert result["total_yen"] == 50


def test_api_litigation_insurance_estimate_with_membership(api, staff_a):
    company = sme(registered_by=staff_a.organisation)
    body = {
        "company": company.pk,
        "fiscal_year": FY,
        "items": [{"right": "patent", "cost_yen": 100}],
    }

    refused = api(staff_a).post(
        "/api/v1/programs/litigation_insurance/estimate/", body, format="json"
    )
    accepted = api(staff_a).post(
        "/api/v1/programs/litigation_insurance/estimate/",
        {**body, "confirmed_conditions": ["association_member"]},
        format="json",
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "not_eligible"
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["total_yen"] == 50


def apply(actor, code, company, fiscal_year, **kwargs):
    ProgramRoundFactory(program=program(code), fiscal_year=fiscal_year)
    return enrolment_apply(
        actor=actor,
        program=program(code),
        fiscal_year=fiscal_year,
        company=company,
        today=TODAY,
        **kwargs,
    )


@pytest.mark.parametrize("kind", ["corporation", "association"])
def test_vc_ipas_admits_accelerators_from_fy2025(staff_a, kind):
    accelerator = CompanyFactory(registered_by=staff_a.organisation, kind=kind)

    enrolment = apply(
        staff_a,
        "vc_ipas",
        accelerator,
        2025,
        confirmed_conditions=["startup_supporter"],
    )

    assert enrolment.status == "applied"


def test_vc_ipas_accelerator_must_confirm_it_supports_startups(staff_a):
    accelerator = CompanyFactory(registered_by=staff_a.organisation)

    with pytest.raises(ValidationFailed) as caught:
        apply(staff_a, "vc_ipas", accelerator, 2025)

    assert caught.value.code == "not_eligible"
    assert "アクセラレーター・エコシステムビルダー等" in caught.value.detail
    assert not Enrolment.objects.filter(company=accelerator).exists()


def test_vc_ipas_refuses_a_corporation_in_fy2024(staff_a):
    accelerator = CompanyFactory(registered_by=staff_a.organisation)

    with pytest.raises(ValidationFailed) as caught:
        apply(
            staff_a,
            "vc_ipas",
            accelerator,
            2024,
            confirmed_conditions=["startup_supporter"],
        )

    assert "VC-IPASの対象は投資家・VCです" in caught.value.detail


def test_vc_ipas_investor_needs_no_confirmation(staff_a):
    investor = CompanyFactory(registered_by=staff_a.organisation, kind="investor")

    assert apply(staff_a, "vc_ipas", investor, 2025).status == "applied"


def test_api_vc_ipas_accelerator_with_confirmation(api, staff_a):
    ProgramRoundFactory(program=program("vc_ipas"), fiscal_year=FY)
    accelerator = CompanyFactory(registered_by=staff_a.organisation)

    response = api(staff_a).post(
        "/api/v1/enrolments/",
        {
            "program": "vc_ipas",
            "fiscal_year": FY,
            "company": accelerator.pk,
            "confirmed_conditions": ["startup_supporter"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content


# --- 6. round_down_to ------------------------------------------------------------


@pytest.fixture
def rounds_to_thousand(network):
    target = program("overseas_filing")
    target.rules["subsidy"]["round_down_to"] = 1000
    target.save(update_fields=["rules"])
    return target


def test_default_rounding_is_down_to_one_yen(network):
    assert (
        estimate("overseas_filing", {"right": "patent", "cost_yen": 1_001_999})[
            "total_yen"
        ]
        == 500_999
    )


@pytest.mark.parametrize(
    ("cost_yen", "eligible_yen"),
    [(1_001_999, 500_000), (1_002_000, 501_000), (1_001_998, 500_000), (1_999, 0)],
)
def test_round_down_to_thousand_yen(rounds_to_thousand, cost_yen, eligible_yen):
    result = subsidy_estimate(
        program=rounds_to_thousand,
        fiscal_year=FY,
        items=[{"right": "patent", "cost_yen": cost_yen}],
    )

    assert result["total_yen"] == eligible_yen
    assert "（1,000円未満切り捨て）" in result["items"][0]["explanation"]
