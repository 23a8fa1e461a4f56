"""enrolment_apply: each eligibility rule of programs.json on both sides of its boundary."""

import datetime as dt

import pytest

from programs.models import Enrolment
from programs.services.eligibility import NotEligible
from programs.services.enrolments import enrolment_apply
from support_network.errors import Conflict, ValidationFailed
from tests.crm.factories import CaseFactory, CompanyFactory
from tests.programs.factories import TEST_FY, ProgramRoundFactory, program

TODAY = dt.date(2026, 11, 21)


@pytest.fixture
def company_of_a(network):
    """Return a factory of companies registered by org A (private access for staff_a)."""

    def make(**fields):
        return CompanyFactory(registered_by=network["inpit-window-13"], **fields)

    return make


def apply(actor, code, company, *, fiscal_year=TEST_FY, **kwargs):
    ProgramRoundFactory(program=program(code), fiscal_year=TEST_FY)
    return enrolment_apply(
        actor=actor,
        program=program(code),
        fiscal_year=fiscal_year,
        company=company,
        today=TODAY,
        **kwargs,
    )


def refusal(actor, code, company, **kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        apply(actor, code, company, **kwargs)
    assert caught.value.code == "not_eligible"
    assert caught.value.field is None
    assert not Enrolment.objects.filter(company=company).exists()
    return caught.value


# --- IPAS: corporations that are startups (JPO definition) -------------------------


def test_ipas_accepts_a_corporation_one_day_short_of_ten_years(staff_a, company_of_a):
    company = company_of_a(founded_on=dt.date(2016, 11, 22), employees=50)

    enrolment = apply(staff_a, "ipas", company)

    assert enrolment.status == "applied"
    assert enrolment.round.fiscal_year == TEST_FY
    assert enrolment.organisation.code == "inpit-window-13"
    assert enrolment.applied_by == staff_a.user
    assert enrolment.scheme == ""


def test_ipas_accepts_a_corporation_founded_9_years_11_months_ago(
    staff_a, company_of_a
):
    company = company_of_a(founded_on=dt.date(2016, 12, 21), employees=50)

    assert apply(staff_a, "ipas", company).status == "applied"


def test_ipas_refuses_a_corporation_founded_exactly_10_years_ago(staff_a, company_of_a):
    company = company_of_a(founded_on=dt.date(2016, 11, 21), employees=50)

    error = refusal(staff_a, "ipas", company)

    assert error.detail == (
        "IPASの対象はスタートアップ（設立10年未満で大企業の支配下になく、"
        "従業員20人以下（商業・サービス業は5人以下）または資本金3億円以下）です。"
        "この企業等は該当しません。"
    )


def test_ipas_accepts_capital_of_exactly_300_million_with_21_employees(
    staff_a, company_of_a
):
    company = company_of_a(
        founded_on=dt.date(2022, 4, 1), employees=21, capital_yen=300_000_000
    )

    assert apply(staff_a, "ipas", company).status == "applied"


def test_ipas_refuses_capital_of_300_million_and_1_yen_with_21_employees(
    staff_a, company_of_a
):
    company = company_of_a(
        founded_on=dt.date(2022, 4, 1), employees=21, capital_yen=300_000_001
    )

    refusal(staff_a, "ipas", company)


def test_ipas_refuses_a_startup_controlled_by_a_large_company(staff_a, company_of_a):
    company = company_of_a(
        founded_on=dt.date(2022, 4, 1), controlled_by_large_company=True
    )

    refusal(staff_a, "ipas", company)


@pytest.mark.parametrize(
    ("industry", "employees", "eligible"),
    [
        ("E", 20, True),  # manufacturing: at most 20 employees
        ("E", 21, False),
        ("7611", 5, True),  # retail (commerce): at most 5 employees
        ("7611", 6, False),
    ],
)
def test_ipas_employee_limit_by_industry_when_capital_is_over_300_million(
    staff_a, company_of_a, industry, employees, eligible
):
    company = company_of_a(
        founded_on=dt.date(2022, 4, 1),
        industry=industry,
        employees=employees,
        capital_yen=300_000_001,
    )

    if eligible:
        assert apply(staff_a, "ipas", company).status == "applied"
    else:
        refusal(staff_a, "ipas", company)


def test_ipas_accepts_a_startup_not_controlled_by_a_large_company(
    staff_a, company_of_a
):
    company = company_of_a(
        founded_on=dt.date(2022, 4, 1), controlled_by_large_company=False
    )

    assert apply(staff_a, "ipas", company).status == "applied"


def test_ipas_refuses_a_company_without_a_founding_date(staff_a, company_of_a):
    refusal(staff_a, "ipas", company_of_a(founded_on=None))


def test_ipas_refuses_a_university(staff_a, company_of_a):
    company = company_of_a(kind="university", founded_on=dt.date(2022, 4, 1))

    error = refusal(staff_a, "ipas", company)

    assert (
        error.detail == "IPASの対象は法人（会社）です（この企業等の種別: 大学・高専）。"
    )


# --- iAca: universities and research institutes, schemes ①②③ ------------------------


@pytest.mark.parametrize("kind", ["university", "research_institute"])
def test_iaca_accepts_universities_and_research_institutes(staff_a, company_of_a, kind):
    enrolment = apply(staff_a, "iaca", company_of_a(kind=kind), scheme="1")

    assert (enrolment.status, enrolment.scheme) == ("applied", "1")


def test_iaca_refuses_a_corporation(staff_a, company_of_a):
    error = refusal(staff_a, "iaca", company_of_a(kind="corporation"), scheme="1")

    assert error.detail == (
        "iAcaの対象は大学・高専、研究機関です（この企業等の種別: 法人（会社））。"
    )


def test_iaca_scheme_3_accepts_joint_research_of_exactly_10_million_a_year(
    staff_a, company_of_a
):
    enrolment = apply(
        staff_a,
        "iaca",
        company_of_a(kind="university"),
        scheme="3",
        joint_research_yen_per_year=10_000_000,
    )

    assert enrolment.scheme == "3"
    assert enrolment.joint_research_yen_per_year == 10_000_000


def test_iaca_scheme_3_refuses_joint_research_of_9_999_999_a_year(
    staff_a, company_of_a
):
    error = refusal(
        staff_a,
        "iaca",
        company_of_a(kind="university"),
        scheme="3",
        joint_research_yen_per_year=9_999_999,
    )

    assert error.detail == (
        "iAcaの類型③（企業との大型共同研究支援）は、企業との共同研究費が年間"
        "10,000,000円以上の場合に限られます（申込の共同研究費: 年間9,999,999円）。"
    )


def test_iaca_scheme_1_needs_no_joint_research(staff_a, company_of_a):
    enrolment = apply(
        staff_a,
        "iaca",
        company_of_a(kind="university"),
        scheme="1",
        joint_research_yen_per_year=0,
    )

    assert enrolment.status == "applied"


def test_iaca_without_a_scheme_is_a_400_on_the_scheme_field(staff_a, company_of_a):
    with pytest.raises(ValidationFailed) as caught:
        apply(staff_a, "iaca", company_of_a(kind="university"))

    assert caught.value.field == "scheme"
    assert caught.value.detail == "iAcaの類型（1、2、3）を選んでください。"


def test_iaca_scheme_3_without_joint_research_is_a_400_on_that_field(
    staff_a, company_of_a
):
    with pytest.raises(ValidationFailed) as caught:
        apply(staff_a, "iaca", company_of_a(kind="university"), scheme="3")

    assert caught.value.field == "joint_research_yen_per_year"


# --- iNat: national projects (国プロ); scheme ③ takes no new applications ---------


def test_inat_accepts_a_national_project(staff_a, company_of_a):
    enrolment = apply(
        staff_a,
        "inat",
        company_of_a(kind="research_institute"),
        scheme="1",
        is_national_project=True,
    )

    assert (enrolment.status, enrolment.scheme) == ("applied", "1")


def test_inat_refuses_an_application_not_for_a_national_project(staff_a, company_of_a):
    error = refusal(
        staff_a,
        "inat",
        company_of_a(kind="research_institute"),
        scheme="1",
        is_national_project=False,
    )

    assert "国プロ" in error.detail


def test_inat_scheme_3_takes_no_new_applications(staff_a, company_of_a):
    error = refusal(
        staff_a,
        "inat",
        company_of_a(kind="university"),
        scheme="3",
        is_national_project=True,
    )

    assert error.detail == (
        "iNatの類型③（指定継続プロジェクト派遣型）は新規の申込を受け付けていません。"
    )


def test_inat_refuses_a_corporation(staff_a, company_of_a):
    refusal(
        staff_a,
        "inat",
        company_of_a(kind="corporation"),
        scheme="2",
        is_national_project=True,
    )


# --- IPランドスケープ: SMEs (micro / sme size class) --------------------------------


@pytest.mark.parametrize(
    ("capital_yen", "employees", "size_class"),
    [
        (10_000_000, 12, "micro"),
        (300_000_000, 301, "sme"),  # manufacturing: capital ≤ 3億 is enough
    ],
)
def test_ip_landscape_accepts_smes(
    staff_a, company_of_a, capital_yen, employees, size_class
):
    company = company_of_a(capital_yen=capital_yen, employees=employees)
    assert company.size_class == size_class

    assert apply(staff_a, "ip_landscape", company).status == "applied"


@pytest.mark.parametrize(
    ("capital_yen", "employees", "size_class", "label"),
    [
        (300_000_001, 301, "midsize", "中堅企業"),
        (300_000_001, 2001, "large", "大企業"),
    ],
)
def test_ip_landscape_refuses_midsize_and_large_companies(
    staff_a, company_of_a, capital_yen, employees, size_class, label
):
    company = company_of_a(capital_yen=capital_yen, employees=employees)
    assert company.size_class == size_class

    error = refusal(staff_a, "ip_landscape", company)

    assert error.detail == (
        "IPランドスケープの対象は小規模企業者、中小企業者です"
        f"（この企業等の規模区分: {label}）。"
    )


def test_ip_landscape_refuses_an_unknown_size_and_says_what_to_register(
    staff_a, company_of_a
):
    company = company_of_a(industry="", capital_yen=None, employees=None)
    assert company.size_class == "unknown"

    error = refusal(staff_a, "ip_landscape", company)

    assert error.detail.endswith(
        "資本金・従業員数・業種を登録すると規模区分を判定できます。"
    )


# --- VC-IPAS: investors --------------------------------------------------------------


def test_vc_ipas_accepts_an_investor(staff_a, company_of_a):
    enrolment = apply(staff_a, "vc_ipas", company_of_a(kind="investor"))

    assert enrolment.status == "applied"


def test_vc_ipas_refuses_a_corporation_before_fy2025(staff_a, company_of_a):
    ProgramRoundFactory(program=program("vc_ipas"), fiscal_year=2024)
    error = refusal(
        staff_a, "vc_ipas", company_of_a(kind="corporation"), fiscal_year=2024
    )

    assert error.detail == (
        "VC-IPASの対象は投資家・VCです（この企業等の種別: 法人（会社））。"
    )


# --- 知財金融, モデル地域, I-OPEN, iNat kinds ------------------------------------------


def test_ip_finance_accepts_an_sme(staff_a, company_of_a):
    company = company_of_a(capital_yen=300_000_000, employees=301)
    assert company.size_class == "sme"

    assert apply(staff_a, "ip_finance", company).status == "applied"


def test_ip_finance_refuses_a_midsize_company(staff_a, company_of_a):
    company = company_of_a(capital_yen=300_000_001, employees=301)
    assert company.size_class == "midsize"

    error = refusal(staff_a, "ip_finance", company)

    assert error.detail == (
        "知財金融の対象は小規模企業者、中小企業者です（この企業等の規模区分: 中堅企業）。"
    )


def test_model_region_accepts_a_municipality(staff_a, company_of_a):
    assert (
        apply(staff_a, "model_region", company_of_a(kind="public_body")).status
        == "applied"
    )


def test_model_region_refuses_a_corporation(staff_a, company_of_a):
    error = refusal(staff_a, "model_region", company_of_a(kind="corporation"))

    assert error.detail.startswith("モデル地域の対象は")


@pytest.mark.parametrize("kind", ["corporation", "sole_proprietor", "association"])
def test_i_open_accepts_startups_non_profits_and_individuals(
    staff_a, company_of_a, kind
):
    assert apply(staff_a, "i_open", company_of_a(kind=kind)).status == "applied"


def test_i_open_refuses_a_university(staff_a, company_of_a):
    refusal(staff_a, "i_open", company_of_a(kind="university"))


@pytest.mark.parametrize(
    "kind", ["university", "research_institute", "association", "public_body"]
)
def test_inat_accepts_every_kind_running_national_projects(staff_a, company_of_a, kind):
    enrolment = apply(
        staff_a, "inat", company_of_a(kind=kind), scheme="2", is_national_project=True
    )

    assert enrolment.status == "applied"


def test_a_refusal_names_the_input_it_is_about(staff_a, company_of_a):
    """The web form shows the reason beside that input (NotEligible.about)."""
    university = company_of_a(kind="university")
    cases = [
        ("ipas", {}, "company"),
        (
            "iaca",
            {"scheme": "3", "joint_research_yen_per_year": 1},
            "joint_research_yen_per_year",
        ),
        ("inat", {"scheme": "1"}, "is_national_project"),
        ("inat", {"scheme": "3", "is_national_project": True}, "scheme"),
    ]
    for code, kwargs, about in cases:
        with pytest.raises(NotEligible) as caught:
            apply(staff_a, code, university, **kwargs)
        assert caught.value.about == about, code


# --- Application period of a round ----------------------------------------------------


@pytest.mark.parametrize(
    ("today", "accepted"),
    [
        (dt.date(2026, 3, 31), False),  # the day before the round opens
        (dt.date(2026, 4, 1), True),  # the opening day
        (dt.date(2026, 11, 20), True),  # the closing day
        (dt.date(2026, 11, 21), False),  # the day after
    ],
)
def test_a_round_takes_applications_from_its_opening_to_its_closing_day(
    staff_a, company_of_a, today, accepted
):
    ProgramRoundFactory(
        program=program("ipas"),
        fiscal_year=TEST_FY,
        opens_on=dt.date(2026, 4, 1),
        closes_on=dt.date(2026, 11, 20),
    )
    company = company_of_a(founded_on=dt.date(2022, 4, 1))

    def submit():
        return enrolment_apply(
            actor=staff_a,
            program=program("ipas"),
            fiscal_year=TEST_FY,
            company=company,
            today=today,
        )

    if accepted:
        assert submit().status == "applied"
    else:
        with pytest.raises(ValidationFailed) as caught:
            submit()
        assert caught.value.code == "round_closed"


# --- Rules shared by every program ---------------------------------------------------


@pytest.mark.parametrize("code", ["overseas_filing", "litigation_insurance"])
def test_subsidy_programs_are_estimated_not_applied_for(staff_a, company_of_a, code):
    with pytest.raises(ValidationFailed) as caught:
        enrolment_apply(
            actor=staff_a,
            program=program(code),
            fiscal_year=TEST_FY,
            company=company_of_a(),
            today=TODAY,
        )

    assert caught.value.code == "not_eligible"
    assert caught.value.detail == "この事業は申込ではなく補助金の見積もりで扱います。"


def test_a_fiscal_year_without_a_round_is_a_400_no_round(staff_a, company_of_a):
    with pytest.raises(ValidationFailed) as caught:
        enrolment_apply(
            actor=staff_a,
            program=program("ipas"),
            fiscal_year=2045,
            company=company_of_a(founded_on=dt.date(2022, 4, 1)),
            today=TODAY,
        )

    assert (caught.value.code, caught.value.field) == ("no_round", "fiscal_year")
    assert caught.value.detail == "IPASの2045年度の募集回はありません。"


def test_a_round_past_its_closing_day_is_refused(staff_a, company_of_a):
    ProgramRoundFactory(
        program=program("ipas"),
        fiscal_year=TEST_FY,
        opens_on=dt.date(2026, 4, 1),
        closes_on=dt.date(2026, 11, 20),
    )

    with pytest.raises(ValidationFailed) as caught:
        enrolment_apply(
            actor=staff_a,
            program=program("ipas"),
            fiscal_year=TEST_FY,
            company=company_of_a(founded_on=dt.date(2022, 4, 1)),
            today=TODAY,
        )

    assert (caught.value.code, caught.value.field) == ("round_closed", "fiscal_year")


def test_a_scheme_for_a_program_without_schemes_is_a_400_on_scheme(
    staff_a, company_of_a
):
    with pytest.raises(ValidationFailed) as caught:
        apply(staff_a, "ipas", company_of_a(founded_on=dt.date(2022, 4, 1)), scheme="1")

    assert caught.value.field == "scheme"
    assert caught.value.detail == "IPASには類型がありません。"


def test_a_company_the_applicant_cannot_see_privately_is_not_found(
    staff_b, company_of_a
):
    company = company_of_a(founded_on=dt.date(2022, 4, 1))

    with pytest.raises(ValidationFailed) as caught:
        apply(staff_b, "ipas", company)

    assert caught.value.field == "company"
    assert caught.value.detail == "企業等が見つかりません。"
    assert not Enrolment.objects.exists()


def test_a_company_visible_through_a_case_may_be_applied_for(staff_b, network):
    case = CaseFactory(
        organisation=network["yorozu-27"],
        company__founded_on=dt.date(2022, 4, 1),
    )

    enrolment = apply(staff_b, "ipas", case.company, case=case.pk)

    assert enrolment.case == case
    assert enrolment.organisation.code == "yorozu-27"


def test_a_case_of_another_company_is_refused(staff_a, company_of_a, network):
    other_case = CaseFactory(organisation=network["inpit-window-13"])

    with pytest.raises(ValidationFailed) as caught:
        apply(
            staff_a,
            "ipas",
            company_of_a(founded_on=dt.date(2022, 4, 1)),
            case=other_case.pk,
        )

    assert caught.value.field == "case"


def test_a_second_open_application_to_the_same_round_is_a_409(staff_a, company_of_a):
    company = company_of_a(founded_on=dt.date(2022, 4, 1))
    first = apply(staff_a, "ipas", company)

    with pytest.raises(Conflict) as caught:
        apply(staff_a, "ipas", company)

    assert caught.value.code == "already_enrolled"
    assert caught.value.extra == {"existing": first.pk}
    assert Enrolment.objects.filter(company=company).count() == 1


def test_a_withdrawn_application_does_not_block_a_new_one(staff_a, company_of_a):
    company = company_of_a(founded_on=dt.date(2022, 4, 1))
    apply(staff_a, "ipas", company)
    Enrolment.objects.filter(company=company).update(status="withdrawn")

    assert apply(staff_a, "ipas", company).status == "applied"
    assert Enrolment.objects.filter(company=company).count() == 2
