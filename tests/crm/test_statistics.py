"""Statistics: every measure and dimension against counts worked out here.

The data set spans two fiscal years (with consultations at 3/31 23:30 JST
and 4/1 00:30 JST), two regions (関東: 東京, 長野; 近畿: 大阪), INPIT 窓口 and
よろず拠点, several topics, IP types, channels, company sizes and industries,
and referrals answered across Golden Week. The expected figures are computed
in Python from the SPECS table below, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest

from crm.choices import ReferralStatus
from crm.models import Consultation, Referral
from crm.services.cases import case_open
from crm.services.consultations import consultation_create
from crm.services.merge import company_merge
from crm.services.referral_transitions import referral_accept, referral_decline
from crm.services.referrals import referral_send
from crm.statistics.consultations import consultation_statistics
from crm.statistics.dimensions import CONSULTATION_DIMENSIONS
from crm.statistics.referrals import referral_statistics
from programs.statistics import program_statistics
from support_network.errors import PermissionDenied, ValidationFailed
from support_network.models import Prefecture
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory
from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory, program

JST = ZoneInfo("Asia/Tokyo")
CONSENT_ON = dt.date(2024, 4, 1)
NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=JST)

# Companies: key → (prefecture, industry, capital, employees).
COMPANIES = {
    "tokyo_maker": ("13", "E", 5_000_000, 10),  # 製造業 micro (≤ 20)
    "osaka_trader": ("27", "I", 30_000_000, 40),  # 卸売・小売 → sme
    "osaka_it": ("27", "G", 2_000_000_000, 900),  # 情報通信 → midsize
    "nagano_design": ("20", "24", 10_000_000, 60),  # 中分類 24 → E, sme
}

# Consultations: (org, company, JST datetime, channel, minutes, topics,
# ip_types, attendee orgs).
SPECS = [
    ("inpit-window-13", "tokyo_maker", (2025, 3, 31, 23, 30), "visit", 60,
     ["patent"], ["patent"], []),
    ("inpit-window-13", "tokyo_maker", (2025, 4, 1, 0, 30), "phone", 30,
     ["patent", "trade_secret"], [], []),
    ("yorozu-13", "tokyo_maker", (2025, 5, 10, 10, 0), "online", 45,
     ["ip_management"], [], ["inpit-window-13"]),
    ("inpit-window-27", "osaka_trader", (2024, 12, 1, 10, 0), "visit", 40,
     ["trademark"], ["trademark"], []),
    ("inpit-window-27", "osaka_trader", (2025, 6, 2, 14, 0), "visit", 90,
     ["overseas", "trademark"], ["trademark"], []),
    ("yorozu-27", "osaka_trader", (2025, 6, 3, 10, 0), "visit", 20,
     ["ip_management"], [], []),
    ("inpit-window-27", "osaka_it", (2026, 3, 31, 23, 59), "email", 15,
     ["patent"], ["patent", "design"], []),
    ("inpit-window-20", "nagano_design", (2025, 7, 7, 9, 0), "onsite", 50,
     ["design"], ["design"], []),
    ("inpit-window-13", "nagano_design", (2026, 4, 1, 9, 0), "visit", 30,
     ["design"], ["design"], []),
]  # fmt: skip

ORGANISATIONS = {
    "inpit-window-13": ("13", "kanto", "inpit_window"),
    "yorozu-13": ("13", "kanto", "yorozu"),
    "inpit-window-27": ("27", "kinki", "inpit_window"),
    "yorozu-27": ("27", "kinki", "yorozu"),
    "inpit-window-20": ("20", "kanto", "inpit_window"),
}
SIZE = {
    "tokyo_maker": "micro",
    "osaka_trader": "sme",
    "osaka_it": "midsize",
    "nagano_design": "sme",
}
INDUSTRY = {
    "tokyo_maker": "E",
    "osaka_trader": "I",
    "osaka_it": "G",
    "nagano_design": "E",
}


def _fy(when: tuple) -> int:
    year, month = when[0], when[1]
    return year if month >= 4 else year - 1


def _values(spec, dim: str) -> list:
    """The dimension codes of one consultation spec (several for topics)."""
    org, company, when, channel, _m, topics, ip_types, _a = spec
    prefecture, region, kind = ORGANISATIONS[org]
    return {
        "fiscal_year": [_fy(when)],
        "month": [f"{when[0]:04d}-{when[1]:02d}"],
        "prefecture": [prefecture],
        "company_prefecture": [COMPANIES[company][0]],
        "region": [region],
        "organisation": [org],
        "organisation_kind": [kind],
        "channel": [channel],
        "topic": topics,
        "ip_type": ip_types or [None],
        "size_class": [SIZE[company]],
        "industry": [INDUSTRY[company]],
        "program": [None],
        "is_startup": [False],  # no founding dates recorded
    }[dim]


def _first_index() -> dict[str, int]:
    first: dict[str, int] = {}
    for i, spec in enumerate(SPECS):
        company = spec[1]
        if company not in first or spec[2] < SPECS[first[company]][2]:
            first[company] = i
    return first


def _linked(i: int) -> bool:
    """よろず連携: window↔yorozu attendance, or a case referred between them."""
    org, _c, _w, _ch, _m, _t, _ip, attendees = SPECS[i]
    kind = ORGANISATIONS[org][2]
    other = {"inpit_window": "yorozu", "yorozu": "inpit_window"}.get(kind)
    if other and any(ORGANISATIONS[a][2] == other for a in attendees):
        return True
    return i == REFERRED_SPEC  # its case was referred from a 窓口 to a よろず


REFERRED_SPEC = 4  # inpit-window-27's June consultation; its case goes to yorozu-27


def expected(dims: list[str], fy: int, orgs: set[str] | None = None) -> dict:
    """Return {dim codes: measures} worked out from SPECS."""
    first = _first_index()
    groups: dict[tuple, dict] = defaultdict(
        lambda: {"ids": [], "companies": set(), "new": 0, "minutes": 0, "links": 0}
    )
    for i, spec in enumerate(SPECS):
        if _fy(spec[2]) != fy or (orgs is not None and spec[0] not in orgs):
            continue
        keys = [()]
        for dim in dims:
            keys = [(*k, v) for k in keys for v in _values(spec, dim)]
        for key in keys:
            g = groups[key]
            g["ids"].append(i)
            g["companies"].add(spec[1])
            g["new"] += first[spec[1]] == i
            g["minutes"] += spec[4]
            g["links"] += _linked(i)
    return {
        key: {
            "consultations": len(g["ids"]),
            "companies": len(g["companies"]),
            "new_companies": g["new"],
            "minutes": g["minutes"],
            "yorozu_links": g["links"],
        }
        for key, g in groups.items()
    }


def _at(when: tuple) -> dt.datetime:
    return dt.datetime(*when, tzinfo=JST)


@pytest.fixture
def dataset(network):
    """Log SPECS through the consultation service; refer one case to よろず."""
    companies = {}
    for key, (pref, industry, capital, employees) in COMPANIES.items():
        companies[key] = CompanyFactory(
            prefecture=Prefecture.objects.get(code=pref),
            industry=industry,
            capital_yen=capital,
            employees=employees,
        )
    staff = {code: make_actor(code, "window_staff") for code in ORGANISATIONS}
    logged = []
    for org, company, when, channel, minutes, topics, ip_types, attendees in SPECS:
        logged.append(
            consultation_create(
                actor=staff[org],
                company=companies[company],
                occurred_at=_at(when),
                channel=channel,
                duration_minutes=minutes,
                topics=topics,
                ip_types=ip_types,
                attendees=attendees,
                summary="相談",
                now=NOW,
            )
        )
    ConsentFactory(
        company=companies["osaka_trader"], scope="network", obtained_on=CONSENT_ON
    )
    referral_send(
        actor=staff["inpit-window-27"],
        case=logged[REFERRED_SPEC].case,
        to_organisation=network["yorozu-27"],
        reason="経営面の支援",
        topics=["ip_management"],
        now=_at((2025, 6, 2, 15, 0)),
    )
    return {"companies": companies, "consultations": logged, "staff": staff}


def _rows_by_key(result: dict) -> dict:
    dims = result["group_by"]
    return {
        tuple(row[d] for d in dims): {
            m: row[m]
            for m in (
                "consultations",
                "companies",
                "new_companies",
                "minutes",
                "yorozu_links",
            )
            if m in row
        }
        for row in result["rows"]
    }


def _without_links(rows: dict) -> dict:
    return {
        key: {m: v for m, v in measures.items() if m != "yorozu_links"}
        for key, measures in rows.items()
    }


@pytest.mark.django_db
@pytest.mark.parametrize("dim", [d for d in CONSULTATION_DIMENSIONS if d != "program"])
@pytest.mark.parametrize("fy", [2024, 2025])
@pytest.mark.parametrize("path", ["facts", "facts_with_links", "detail"])
def test_every_dimension_matches_counts_worked_out_by_hand(
    dataset, superuser_actor, dim, fy, path
):
    # Most dimensions read the statistics facts (よろず連携 included); with
    # ip_type beside them they read the consultations: all must agree.
    dims = [dim, "ip_type"] if path == "detail" and dim != "ip_type" else [dim]
    result = consultation_statistics(
        actor=superuser_actor,
        fiscal_year=fy,
        group_by=dims,
        measures=["yorozu_links"] if path != "facts" else [],
    )
    want = expected(dims, fy)
    assert _rows_by_key(result) == (want if path != "facts" else _without_links(want))
    for row in result["rows"]:
        assert row[f"{dim}_label"]  # a Japanese label beside every code
    assert result["totals"]["consultations"] == len(
        [s for s in SPECS if _fy(s[2]) == fy]
    )


@pytest.mark.django_db
def test_prefecture_by_topic_counts_a_consultation_once_per_topic(
    dataset, superuser_actor
):
    result = consultation_statistics(
        actor=superuser_actor,
        fiscal_year=2025,
        group_by=["prefecture", "topic"],
        measures=["yorozu_links"],
    )
    rows = _rows_by_key(result)
    assert rows == expected(["prefecture", "topic"], 2025)
    # The 4/1 00:30 consultation has two topics: it counts in both ...
    assert rows[("13", "patent")]["consultations"] == 1
    assert rows[("13", "trade_secret")]["consultations"] == 1
    # ... and once in the totals.
    totals = result["totals"]
    fy2025 = [s for s in SPECS if _fy(s[2]) == 2025]
    assert totals["consultations"] == len(fy2025) == 6
    assert totals["minutes"] == sum(s[4] for s in fy2025)
    assert totals["companies"] == 4
    # osaka_trader first came in FY2024; nagano_design and osaka_it are new.
    assert totals["new_companies"] == 2
    assert totals["yorozu_links"] == 2


@pytest.mark.django_db
def test_fiscal_year_boundary_is_the_jst_date(dataset, superuser_actor):
    fy2024 = consultation_statistics(actor=superuser_actor, fiscal_year=2024)
    fy2025 = consultation_statistics(actor=superuser_actor, fiscal_year=2025)
    fy2026 = consultation_statistics(actor=superuser_actor, fiscal_year=2026)
    # 2025-03-31 23:30 JST (14:30 UTC) is FY2024; 2025-04-01 00:30 JST is FY2025
    # although it is still 3/31 in UTC; 2026-03-31 23:59 JST is FY2025.
    assert fy2024["totals"]["consultations"] == 2
    assert fy2025["totals"]["consultations"] == 6
    assert fy2026["totals"]["consultations"] == 1
    # Both FY2024 companies were new then; in FY2026 nagano_design is not.
    assert fy2024["totals"]["new_companies"] == 2
    assert fy2026["totals"]["new_companies"] == 0


@pytest.mark.django_db
def test_prefecture_by_topic_from_the_facts_matches_the_hand_count(
    dataset, superuser_actor
):
    result = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["prefecture", "topic"]
    )
    assert _rows_by_key(result) == _without_links(
        expected(["prefecture", "topic"], 2025)
    )
    totals = result["totals"]
    assert (totals["consultations"], totals["companies"]) == (6, 4)
    assert totals["new_companies"] == 2


@pytest.mark.django_db
def test_two_and_three_dimensions_together(dataset, superuser_actor):
    for dims in (
        ["region", "organisation_kind"],
        ["topic", "ip_type", "channel"],
        ["month", "company_prefecture", "size_class", "industry"],
    ):
        result = consultation_statistics(
            actor=superuser_actor,
            fiscal_year=2025,
            group_by=dims,
            measures=["yorozu_links"],
        )
        assert _rows_by_key(result) == expected(dims, 2025)


@pytest.mark.django_db
def test_filters_keep_only_the_given_codes(dataset, superuser_actor):
    result = consultation_statistics(
        actor=superuser_actor,
        fiscal_year=2025,
        group_by=["organisation"],
        filters={"topic": "ip_management"},
    )
    assert {r["organisation"]: r["consultations"] for r in result["rows"]} == {
        "yorozu-13": 1,
        "yorozu-27": 1,
    }
    assert result["totals"]["consultations"] == 2
    # A topic filter without the topic dimension, and a filter by prefecture
    # grouped by topic: a two-topic consultation counts once in the totals.
    patent = consultation_statistics(
        actor=superuser_actor,
        fiscal_year=2025,
        group_by=["prefecture"],
        filters={"topic": "patent"},
    )
    by_pref_topic = _without_links(expected(["prefecture", "topic"], 2025))
    assert {
        (r["prefecture"],): m
        for r, m in zip(patent["rows"], _rows_by_key(patent).values(), strict=True)
    } == {(p,): m for (p, t), m in by_pref_topic.items() if t == "patent"}
    patent_specs = [s for s in SPECS if _fy(s[2]) == 2025 and "patent" in s[5]]
    assert patent["totals"]["consultations"] == len(patent_specs)
    tokyo = consultation_statistics(
        actor=superuser_actor,
        fiscal_year=2025,
        group_by=["topic"],
        filters={"prefecture": "13"},
    )
    want = {t: m for (p, t), m in by_pref_topic.items() if p == "13"}
    assert {r["topic"]: _rows_by_key(tokyo)[(r["topic"],)] for r in tokyo["rows"]} == (
        want
    )
    tokyo_specs = [s for s in SPECS if _fy(s[2]) == 2025 and s[0].endswith("-13")]
    assert tokyo["totals"]["consultations"] == len(tokyo_specs)
    assert tokyo["totals"]["minutes"] == sum(s[4] for s in tokyo_specs)


MANAGERS = {
    # role holder → organisations whose consultations they count.
    ("jpo", "manager"): None,  # the nation
    ("bureau-kanto", "manager"): {"inpit-window-13", "yorozu-13", "inpit-window-20"},
    ("bureau-kinki", "manager"): {"inpit-window-27", "yorozu-27"},
    ("jpaa-tokai", "coordinator"): {"inpit-window-20"},  # 長野 is in 東海会
    ("inpit-window-13", "manager"): {"inpit-window-13"},
    ("inpit-window-13", "window_staff"): {"inpit-window-13"},
    ("yorozu-27", "org_admin"): {"yorozu-27"},
    ("yorozu-01", "manager"): set(),  # 北海道: none of this data
}


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "role"), list(MANAGERS))
def test_each_caller_counts_only_their_reach(dataset, code, role):
    actor = make_actor(code, role, username=f"stats-{role}-{code}")
    orgs = MANAGERS[(code, role)]
    for dims in (["organisation"], ["prefecture", "topic"]):
        result = consultation_statistics(
            actor=actor, fiscal_year=2025, group_by=dims, measures=["yorozu_links"]
        )
        assert _rows_by_key(result) == expected(dims, 2025, orgs)
    totals = consultation_statistics(actor=actor, fiscal_year=2025)["totals"]
    assert totals["consultations"] == sum(
        1 for s in SPECS if _fy(s[2]) == 2025 and (orgs is None or s[0] in orgs)
    )


@pytest.mark.django_db
def test_region_manager_never_sees_another_regions_rows(dataset):
    kinki = make_actor("bureau-kinki", "manager")
    result = consultation_statistics(
        actor=kinki, fiscal_year=2025, group_by=["prefecture", "organisation"]
    )
    assert {r["prefecture"] for r in result["rows"]} == {"27"}
    assert result["scope"]["level"] == "region"
    own = consultation_statistics(
        actor=kinki, fiscal_year=2025, group_by=["organisation"], scope="organisation"
    )
    assert own["rows"] == []  # the bureau itself logged nothing


@pytest.mark.django_db
def test_experts_get_no_statistics(dataset):
    expert = make_actor("inpit-window-13", "expert")
    with pytest.raises(PermissionDenied):
        consultation_statistics(actor=expert, fiscal_year=2025)


@pytest.mark.django_db
def test_unknown_dimension_or_filter_is_a_400_naming_the_field(superuser_actor):
    with pytest.raises(ValidationFailed) as bad:
        consultation_statistics(
            actor=superuser_actor, fiscal_year=2025, group_by=["colour"]
        )
    assert bad.value.field == "group_by"
    with pytest.raises(ValidationFailed) as bad:
        consultation_statistics(
            actor=superuser_actor, fiscal_year=2025, filters={"colour": "red"}
        )
    assert bad.value.field == "colour"


@pytest.mark.django_db
def test_new_companies_follow_a_back_dated_first_consultation_and_a_merge(
    dataset, superuser_actor
):
    staff = dataset["staff"]["inpit-window-13"]
    maker = dataset["companies"]["tokyo_maker"]
    # A consultation back-dated into FY2023 becomes tokyo_maker's first.
    consultation_create(
        actor=staff,
        company=maker,
        occurred_at=_at((2023, 9, 1, 10, 0)),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary="古い相談の登録",
        now=NOW,
    )
    assert (
        Consultation.objects.filter(company=maker, is_company_first=True).count() == 1
    )
    fy2024 = consultation_statistics(actor=superuser_actor, fiscal_year=2024)
    assert fy2024["totals"]["new_companies"] == 1  # only osaka_trader now
    fy2023 = consultation_statistics(actor=superuser_actor, fiscal_year=2023)
    assert fy2023["totals"]["new_companies"] == 1

    # Merging osaka_it (first: 2026-03-31) into nagano_design (first:
    # 2025-07-07) leaves one first consultation: nagano_design's. (A data
    # steward merges: no single organisation works with both.)
    company_merge(
        actor=superuser_actor,
        source=dataset["companies"]["osaka_it"],
        target=dataset["companies"]["nagano_design"],
        now=NOW,
    )
    fy2025 = consultation_statistics(actor=superuser_actor, fiscal_year=2025)
    assert fy2025["totals"]["new_companies"] == 1
    assert fy2025["totals"]["companies"] == 3


@pytest.mark.django_db
def test_program_dimension_counts_a_consultation_once_per_program(
    dataset, superuser_actor
):
    consultation = dataset["consultations"][1]  # FY2025, 30 minutes, 2 topics
    for fy in (2025, 2026):  # two enrolments of one case in one program
        EnrolmentFactory(
            round=ProgramRoundFactory(program=program("ipas"), fiscal_year=fy),
            company=consultation.company,
            case=consultation.case,
        )
    result = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["program", "topic"]
    )
    ipas = [r for r in result["rows"] if r["program"] == "ipas"]
    assert [(r["topic"], r["consultations"], r["minutes"]) for r in ipas] == [
        ("patent", 1, 30),
        ("trade_secret", 1, 30),
    ]
    none = sum(r["consultations"] for r in result["rows"] if r["program"] is None)
    per_topic = expected(["topic"], 2025).values()
    assert none == sum(g["consultations"] for g in per_topic) - 2
    assert result["totals"]["consultations"] == 6


# ---------------------------------------------------------------------------
# Referrals


@pytest.fixture
def referrals(dataset, network):
    """Five more referrals from 大阪の窓口 to よろず大阪 in FY2025/FY2026."""
    staff = dataset["staff"]
    sender = staff["inpit-window-27"]
    receiver = make_actor("yorozu-27", "coordinator")
    osaka_it = dataset["companies"]["osaka_it"]
    ConsentFactory(company=osaka_it, scope="network", obtained_on=CONSENT_ON)

    def send(when):
        case = case_open(
            actor=sender, company=osaka_it, title="海外展開", today=_at(when).date()
        )
        return referral_send(
            actor=sender,
            case=case,
            to_organisation=network["yorozu-27"],
            reason="相談",
            topics=["overseas"],
            now=_at(when),
        )

    # Sent Fri 5/2 before Golden Week, accepted Wed 5/7: 1 business day.
    r1 = send((2025, 5, 2, 10, 0))
    referral_accept(actor=receiver, referral=r1, now=_at((2025, 5, 7, 10, 0)))
    # Sent Mon 6/9, accepted Thu 6/12: 3 business days.
    r2 = send((2025, 6, 9, 10, 0))
    referral_accept(actor=receiver, referral=r2, now=_at((2025, 6, 12, 10, 0)))
    # Sent Tue 12/23, declined Mon 1/5 across the 12/29–1/3 closure: 4
    # business days (12/24, 12/25, 12/26, 1/5).
    r3 = send((2025, 12, 23, 10, 0))
    referral_decline(actor=receiver, referral=r3, now=_at((2026, 1, 5, 10, 0)))
    # Still waiting, sent at 3/31 23:30 JST: FY2025.
    send((2026, 3, 31, 23, 30))
    # 4/1 00:30 JST: FY2026.
    send((2026, 4, 1, 0, 30))
    return receiver


@pytest.mark.django_db
def test_referral_statistics_by_status_with_median_answer_days(
    referrals, superuser_actor
):
    result = referral_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["to_organisation"]
    )
    totals = result["totals"]
    # The fixture's own June referral (dataset) is still waiting too.
    assert totals["referrals"] == 5
    assert totals["sent"] == 2
    assert totals["accepted"] == 2
    assert totals["declined"] == 1
    assert totals["acceptance_rate"] == round(2 / 3, 4)
    days = sorted(
        Referral.objects.filter(answered_at__isnull=False).values_list(
            "answer_business_days", flat=True
        )
    )
    assert days == [1, 3, 4]
    assert totals["median_answer_business_days"] == 3.0
    [row] = result["rows"]
    assert row["to_organisation"] == "yorozu-27"
    assert row["median_answer_business_days"] == 3.0
    fy2026 = referral_statistics(actor=superuser_actor, fiscal_year=2026)
    assert fy2026["totals"]["referrals"] == 1


@pytest.mark.django_db
def test_referral_median_of_an_even_count_is_the_mean_of_the_middle_two(
    referrals, superuser_actor
):
    result = referral_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["status"]
    )
    by_status = {r["status"]: r for r in result["rows"]}
    assert by_status[ReferralStatus.ACCEPTED]["median_answer_business_days"] == 2.0
    assert by_status[ReferralStatus.DECLINED]["median_answer_business_days"] == 4.0
    assert by_status[ReferralStatus.SENT]["median_answer_business_days"] is None
    month = referral_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["month"]
    )
    assert {r["month"]: r["referrals"] for r in month["rows"]} == {
        "2025-05": 1,
        "2025-06": 2,
        "2025-12": 1,
        "2026-03": 1,
    }


@pytest.mark.django_db
def test_referral_statistics_follow_reach_on_either_side(referrals):
    kanto = make_actor("bureau-kanto", "manager")
    assert (
        referral_statistics(actor=kanto, fiscal_year=2025)["totals"]["referrals"] == 0
    )
    kinki = make_actor("bureau-kinki", "manager")
    assert (
        referral_statistics(actor=kinki, fiscal_year=2025)["totals"]["referrals"] == 5
    )
    # The receiving organisation's manager counts what it received.
    yorozu = make_actor("yorozu-27", "manager")
    assert (
        referral_statistics(actor=yorozu, fiscal_year=2025)["totals"]["referrals"] == 5
    )


# ---------------------------------------------------------------------------
# Programs


@pytest.mark.django_db
def test_program_statistics_against_capacity(network, superuser_actor):
    ProgramRoundFactory(program=program("ipas"), fiscal_year=2025, capacity=20)
    statuses = ["applied", "screening", "accepted", "active", "active", "completed"]
    for status in statuses:
        EnrolmentFactory(status=status, round__fiscal_year=2025)
    result = program_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["program"]
    )
    [row] = result["rows"]
    assert row["program"] == "ipas"
    assert row["enrolments"] == 6
    assert row["active"] == 2
    assert row["completed"] == 1
    assert row["capacity"] == 20
    # INPIT operates IPAS: its coordinator counts every IPAS enrolment; a
    # window elsewhere counts none of 東京's.
    inpit = make_actor("inpit", "coordinator")
    assert (
        program_statistics(actor=inpit, fiscal_year=2025)["totals"]["enrolments"] == 6
    )
    osaka = make_actor("inpit-window-27", "manager")
    assert (
        program_statistics(actor=osaka, fiscal_year=2025)["totals"]["enrolments"] == 0
    )


# ---------------------------------------------------------------------------
# API


@pytest.mark.django_db
def test_api_statistics_endpoints(dataset, api):
    manager = make_actor("bureau-kanto", "manager")
    client = api(manager)
    response = client.get(
        "/api/v1/statistics/consultations/",
        {"fiscal_year": 2025, "group_by": "prefecture,topic"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["fiscal_year"] == 2025
    assert body["group_by"] == ["prefecture", "topic"]
    assert {r["prefecture"] for r in body["rows"]} <= {"13", "20"}
    first = body["rows"][0]
    assert set(first) >= {
        "prefecture",
        "prefecture_label",
        "topic",
        "topic_label",
        "consultations",
        "companies",
        "new_companies",
        "minutes",
    }
    assert body["totals"]["consultations"] == 3
    for path in ("referrals", "programs"):
        assert client.get(f"/api/v1/statistics/{path}/").status_code == 200

    bad = client.get("/api/v1/statistics/consultations/", {"group_by": "colour"})
    assert bad.status_code == 400
    assert "group_by" in bad.json()
    bad = client.get("/api/v1/statistics/consultations/", {"fiscal_year": "令和7"})
    assert bad.status_code == 400
    assert "fiscal_year" in bad.json()
    expert = api(make_actor("inpit-window-13", "expert"))
    assert expert.get("/api/v1/statistics/consultations/").status_code == 403
    assert api().get("/api/v1/statistics/consultations/").status_code in (401, 403)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    for path in ("consultations", "referrals", "programs"):
        assert f"/api/v1/statistics/{path}/" in schema["paths"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [
        {"topic": "no_such_topic"},
        {"prefecture": "99999"},
        {"prefecture": "xx"},
        {"prefecture": "¹³"},  # digits to str.isdigit, not to int()
        {"month": "999999999999"},
    ],
)
def test_a_filter_no_row_can_match_gives_no_rows_and_zero_totals(
    dataset, superuser_actor, filters
):
    # Facts store prefecture and topic as numbers: an unknown code or a
    # number outside the column's range must answer "nothing", not fail.
    for dims in (["prefecture", "topic"], ["ip_type"], ["channel"], []):
        result = consultation_statistics(
            actor=superuser_actor, fiscal_year=2025, group_by=dims, filters=filters
        )
        if dims:
            assert result["rows"] == []
        assert result["totals"]["consultations"] == 0
        assert result["totals"]["companies"] == 0
