"""Statistics KPIs of issue 16 item 7, against figures worked out here.

- `is_startup` dimension (API.md "Corrections"): the company was a JPO startup
  (crm.rules.company_size.is_startup) on the consultation's date.
- `first_filers` measure (知的財産推進計画2025, about 1.4万社): distinct 中小企業者
  whose first filing outcome is on or after one of the counted consultations.
- Outcome KPIs: filings, licences and funds raised (資金調達) after a consultation.
In the API, the managers' page and the consultation_statistics export.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from crm.exports.statistics import consultation_statistics_export
from crm.models import Outcome
from crm.rules.company_size import is_startup
from crm.statistics.consultations import consultation_statistics
from crm.statistics.outcomes import outcome_kpis
from support_network.calendar import JST
from support_network.errors import ValidationFailed
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsultationFactory

FY = 2025
ORG = "inpit-window-13"


def at(y, m, d, hour=10):
    return dt.datetime(y, m, d, hour, 0, tzinfo=JST)


@pytest.fixture
def manager(network):
    return make_actor(ORG, "manager")


def consult(company, when, org=ORG, network=None):
    case = CaseFactory(company=company, organisation=network[org])
    return ConsultationFactory(case=case, occurred_at=when)


def outcome(consultation, kind, on, amount=None):
    return Outcome.objects.create(
        case=consultation.case,
        company=consultation.company,
        organisation=consultation.organisation,
        kind=kind,
        occurred_on=on,
        amount_yen=amount,
        recorded_by=consultation.author,
    )


# --- is_startup ---------------------------------------------------------------------

# (key, company fields, consultation date); the expected status comes from
# crm.rules.company_size.is_startup on that date, and is also written down.
STARTUP_CASES = [
    # 10 years from 2015-06-01 end on 2025-05-31.
    ("ten_years_less_a_day", {"founded_on": dt.date(2015, 6, 1)}, (2025, 5, 31), True),
    ("ten_years", {"founded_on": dt.date(2015, 6, 1)}, (2025, 6, 1), False),
    ("no_founding_date", {"founded_on": None}, (2025, 6, 1), False),
    (
        "controlled",
        {"founded_on": dt.date(2022, 1, 1), "controlled_by_large_company": True},
        (2025, 6, 1),
        False,
    ),
    (
        "maker_20_staff",
        {
            "founded_on": dt.date(2022, 1, 1),
            "employees": 20,
            "capital_yen": 400_000_000,
        },
        (2025, 6, 1),
        True,
    ),
    (
        "maker_21_staff",
        {
            "founded_on": dt.date(2022, 1, 1),
            "employees": 21,
            "capital_yen": 400_000_000,
        },
        (2025, 6, 1),
        False,
    ),
    (
        "retailer_5_staff",
        {
            "founded_on": dt.date(2022, 1, 1),
            "industry": "56",
            "employees": 5,
            "capital_yen": 400_000_000,
        },
        (2025, 6, 1),
        True,
    ),
    (
        "retailer_6_staff",
        {
            "founded_on": dt.date(2022, 1, 1),
            "industry": "56",
            "employees": 6,
            "capital_yen": 400_000_000,
        },
        (2025, 6, 1),
        False,
    ),
    (
        "capital_300m",
        {
            "founded_on": dt.date(2022, 1, 1),
            "employees": 500,
            "capital_yen": 300_000_000,
        },
        (2025, 6, 1),
        True,
    ),
    (
        "capital_300m_and_1",
        {
            "founded_on": dt.date(2022, 1, 1),
            "employees": 500,
            "capital_yen": 300_000_001,
        },
        (2025, 6, 1),
        False,
    ),
    (
        "sole_proprietor",
        {"kind": "sole_proprietor", "founded_on": dt.date(2020, 1, 1), "employees": 50},
        (2025, 6, 1),
        True,
    ),
    (
        "leap_day_founder_last_day",
        {"founded_on": dt.date(2016, 2, 29)},
        (2026, 2, 28),
        True,
    ),
]


@pytest.fixture
def startup_data(network):
    made = {}
    for key, fields, when, _expected in STARTUP_CASES:
        company = CompanyFactory(name=f"株式会社{key}", **fields)
        made[key] = (company, consult(company, at(*when), network=network))
    return made


def test_startup_cases_agree_with_the_python_rule(startup_data):
    for key, _fields, when, expected in STARTUP_CASES:
        company, _consultation = startup_data[key]
        assert (
            is_startup(
                kind=company.kind,
                founded_on=company.founded_on,
                employees=company.employees,
                capital_yen=company.capital_yen,
                industry=company.industry,
                controlled_by_large_company=company.controlled_by_large_company,
                today=dt.date(*when),
            )
            is expected
        ), key


def test_group_by_is_startup_counts_each_side_of_every_boundary(startup_data, manager):
    result = consultation_statistics(
        actor=manager, fiscal_year=FY, group_by=["is_startup"]
    )

    startups = sum(1 for *_x, expected in STARTUP_CASES if expected)
    others = len(STARTUP_CASES) - startups
    rows = {row["is_startup"]: row for row in result["rows"]}
    assert rows[True]["consultations"] == startups
    assert rows[True]["is_startup_label"] == "スタートアップ"
    assert rows[False]["consultations"] == others
    assert rows[False]["is_startup_label"] == "スタートアップ以外"
    assert result["totals"]["consultations"] == len(STARTUP_CASES)


def test_is_startup_filter(startup_data, manager):
    result = consultation_statistics(
        actor=manager,
        fiscal_year=FY,
        group_by=["organisation"],
        filters={"is_startup": "true"},
    )

    assert result["totals"]["consultations"] == sum(
        1 for *_x, expected in STARTUP_CASES if expected
    )
    assert result["filters"] == {"is_startup": True}


def test_is_startup_filter_refuses_other_values(manager):
    with pytest.raises(ValidationFailed) as caught:
        consultation_statistics(
            actor=manager, fiscal_year=FY, filters={"is_startup": "maybe"}
        )

    assert caught.value.field == "is_startup"


def test_api_groups_by_is_startup(api, startup_data, manager):
    response = api(manager).get(
        "/api/v1/statistics/consultations/",
        {"fiscal_year": FY, "group_by": "is_startup"},
    )

    assert response.status_code == 200, response.content
    rows = {row["is_startup"]: row["consultations"] for row in response.json()["rows"]}
    assert rows == {
        True: sum(1 for *_x, e in STARTUP_CASES if e),
        False: sum(1 for *_x, e in STARTUP_CASES if not e),
    }


# --- first_filers -------------------------------------------------------------------


@pytest.fixture
def filers(network):
    """Companies consulted in FY2025 and their filings."""
    sme = {"capital_yen": 10_000_000, "employees": 30}
    companies = {
        "after": CompanyFactory(**sme),  # first filing after the consultation
        "same_day": CompanyFactory(**sme),  # first filing on its day
        "before": CompanyFactory(**sme),  # first filing before it
        "earlier_first": CompanyFactory(**sme),  # filed in 2020, again after
        "midsize": CompanyFactory(capital_yen=500_000_000, employees=500),
        "twice": CompanyFactory(**sme),  # two consultations, one filing after
        "never": CompanyFactory(**sme),
    }
    c = {
        key: consult(co, at(2025, 5, 10), network=network)
        for key, co in companies.items()
    }
    consult(companies["twice"], at(2025, 7, 1), network=network)
    outcome(c["after"], "filing", dt.date(2025, 6, 1))
    outcome(c["same_day"], "filing", dt.date(2025, 5, 10))
    outcome(c["before"], "filing", dt.date(2025, 5, 9))
    outcome(c["earlier_first"], "filing", dt.date(2020, 1, 1))
    outcome(c["earlier_first"], "filing", dt.date(2025, 6, 1))
    outcome(c["midsize"], "filing", dt.date(2025, 6, 1))
    outcome(c["twice"], "filing", dt.date(2025, 8, 1))
    outcome(c["never"], "licence", dt.date(2025, 8, 1))
    return companies


def test_first_filers_count_smes_whose_first_filing_followed_a_consultation(
    filers, manager
):
    result = consultation_statistics(
        actor=manager, fiscal_year=FY, measures=["first_filers"]
    )

    # after, same_day, twice (once although consulted twice).
    assert result["totals"]["first_filers"] == 3
    assert result["totals"]["companies"] == len(filers)


def test_first_filers_by_month(filers, manager):
    result = consultation_statistics(
        actor=manager, fiscal_year=FY, group_by=["month"], measures=["first_filers"]
    )

    by_month = {row["month"]: row["first_filers"] for row in result["rows"]}
    assert by_month == {"2025-05": 3, "2025-07": 1}


def test_api_measures_first_filers(api, filers, manager):
    response = api(manager).get(
        "/api/v1/statistics/consultations/",
        {"fiscal_year": FY, "measures": "first_filers"},
    )

    assert response.status_code == 200, response.content
    assert response.json()["totals"]["first_filers"] == 3


def test_first_filers_is_not_computed_unless_asked(filers, manager):
    result = consultation_statistics(actor=manager, fiscal_year=FY)

    assert "first_filers" not in result["totals"]


# --- outcome KPIs -------------------------------------------------------------------


@pytest.fixture
def outcomes(network):
    company = CompanyFactory()
    consultation = consult(company, at(2025, 5, 10), network=network)
    outcome(consultation, "licence", dt.date(2025, 5, 10))  # same day: counts
    outcome(consultation, "licence", dt.date(2025, 5, 9))  # before: no
    outcome(consultation, "licence", dt.date(2026, 3, 31))  # last day of FY
    outcome(consultation, "licence", dt.date(2026, 4, 1))  # next FY: no
    outcome(consultation, "financing", dt.date(2025, 6, 1), 30_000_000)
    outcome(consultation, "financing", dt.date(2025, 7, 1), 5_000_000)
    outcome(consultation, "financing", dt.date(2025, 8, 1), None)
    outcome(consultation, "financing", dt.date(2025, 5, 1), 99_000_000)  # before
    outcome(consultation, "filing", dt.date(2025, 9, 1))
    other = consult(CompanyFactory(), at(2025, 5, 10), org="yorozu-27", network=network)
    outcome(other, "financing", dt.date(2025, 6, 1), 1_000_000)  # not in reach
    return consultation


def test_outcome_kpis_count_licences_and_sum_funds_after_a_consultation(
    outcomes, manager
):
    assert outcome_kpis(actor=manager, fiscal_year=FY) == {
        "filings_after_consultation": 1,
        "licences": 2,
        "financings": 3,
        "funds_raised_yen": 35_000_000,
    }


def test_api_outcome_statistics(api, outcomes, manager):
    response = api(manager).get("/api/v1/statistics/outcomes/", {"fiscal_year": FY})

    assert response.status_code == 200, response.content
    assert response.json()["totals"] == {
        "filings_after_consultation": 1,
        "licences": 2,
        "financings": 3,
        "funds_raised_yen": 35_000_000,
    }
    assert response.json()["rows"] == []


def test_api_outcome_statistics_refuses_group_by(api, manager):
    response = api(manager).get(
        "/api/v1/statistics/outcomes/", {"fiscal_year": FY, "group_by": "month"}
    )

    assert response.status_code == 400


# --- managers' page and export ----------------------------------------------------


def test_managers_page_shows_the_new_kpis(outcomes, filers, startup_data, manager):
    client = Client()
    client.force_login(manager.user)

    html = client.get(reverse("crm:statistics"), {"fiscal_year": FY}).content.decode()

    # 3 of the filers and the outcomes' company (micro, filing in September).
    assert 'data-kpi="first_filers">4<' in html
    assert 'data-kpi="licences">3<' in html  # 2 here, 1 of the filers
    assert 'data-kpi="funds_raised">35,000,000円<' in html
    assert "スタートアップ別の相談件数" in html


def test_export_has_the_startup_dimension_first_filers_and_outcome_kpis(
    outcomes, filers, manager
):
    table = consultation_statistics_export(
        actor=manager,
        fiscal_year=FY,
        params={"group_by": ["is_startup"], "measures": ["first_filers"]},
    )
    rows = list(table.rows)

    assert next(c.header for c in table.columns) == "スタートアップ"
    assert "初めて出願した中小企業数" in [c.header for c in table.columns]
    assert rows[-3][:2] == ("（成果）相談後のライセンス契約件数", 3)
    assert rows[-1][:2] == ("（成果）相談後の資金調達額（円）", 35_000_000)
    total = next(r for r in rows if r[0] == "合計")
    assert total[-1] == 4  # first_filers: 3 of the filers and the outcomes' one
