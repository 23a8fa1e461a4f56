"""Statistics facts stay in step with every write that changes a consultation.

`crm.statistics` reads most consultation measures from `ConsultationFact`;
a fact that lagged behind would show managers wrong figures. Each write path
(the consultation service, an admin edit, an organisation's move, a full
rebuild) is checked here through the statistics a manager reads.
"""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from crm.choices import TOPIC_NUMBERS, Topic
from crm.models import ConsultationFact
from crm.services.consultations import consultation_create
from crm.services.referral_transitions import referral_cancel
from crm.services.referrals import referral_send
from crm.statistics.consultations import consultation_statistics
from crm.statistics.facts import consultation_facts_refresh
from support_network.models import Organisation
from support_network.services.network import organisation_place_changed
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory

JST = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=JST)

pytestmark = pytest.mark.django_db


def _log(actor, company, when, topics, minutes=30, attendees=()):
    return consultation_create(
        actor=actor,
        company=company,
        occurred_at=dt.datetime(*when, tzinfo=JST),
        channel="visit",
        duration_minutes=minutes,
        topics=topics,
        attendees=list(attendees),
        summary="相談",
        now=NOW,
    )


def _links(actor, fy=2025):
    """Return the よろず連携 count by month and the total, as the managers' page."""
    result = consultation_statistics(
        actor=actor, fiscal_year=fy, group_by=["month"], measures=["yorozu_links"]
    )
    return (
        {r["month"]: r["yorozu_links"] for r in result["rows"]},
        result["totals"]["yorozu_links"],
    )


def _by(result, dim):
    return {r[dim]: r["consultations"] for r in result["rows"]}


def test_a_logged_consultation_has_one_fact_per_topic_and_one_primary(network):
    staff = make_actor("inpit-window-13", "window_staff")
    consultation = _log(
        staff, CompanyFactory(), (2025, 6, 2, 10, 0), ["patent", "trademark"], 45
    )
    facts = ConsultationFact.objects.filter(consultation=consultation)
    assert sorted(facts.values_list("topic_no", flat=True)) == [
        TOPIC_NUMBERS["patent"],
        TOPIC_NUMBERS["trademark"],
    ]
    assert facts.filter(is_primary=True).count() == 1
    fact = facts.first()
    assert (fact.fiscal_year, fact.month, fact.prefecture_no, fact.minutes) == (
        2025,
        202506,
        13,
        45,
    )
    assert fact.region_id == network["inpit-window-13"].prefecture.region_id


def test_an_admin_edit_moves_the_consultation_in_the_statistics(
    network, superuser_actor, client
):
    staff = make_actor("inpit-window-13", "window_staff")
    company = CompanyFactory()
    consultation = _log(staff, company, (2025, 6, 2, 10, 0), ["patent"])
    topic = consultation.topics.get()
    client.force_login(superuser_actor.user)
    url = f"/admin/crm/consultation/{consultation.pk}/change/"
    response = client.post(
        url,
        {
            "case": consultation.case_id,
            "company": company.pk,
            "organisation": consultation.organisation_id,
            "author": consultation.author_id,
            # Back to 2025-03-20: FY2024, and the topic becomes 商標.
            "occurred_at_0": "2025-03-20",
            "occurred_at_1": "10:00:00",
            "channel": "phone",
            "duration_minutes": "50",
            "summary": "相談（訂正）",
            "topics-TOTAL_FORMS": "1",
            "topics-INITIAL_FORMS": "1",
            "topics-MIN_NUM_FORMS": "0",
            "topics-MAX_NUM_FORMS": "1000",
            "topics-0-id": topic.pk,
            "topics-0-consultation": consultation.pk,
            "topics-0-topic": "trademark",
            "ip_types-TOTAL_FORMS": "0",
            "ip_types-INITIAL_FORMS": "0",
            "ip_types-MIN_NUM_FORMS": "0",
            "ip_types-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fy2025 = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["topic"]
    )
    assert fy2025["rows"] == []
    assert fy2025["totals"]["consultations"] == 0
    fy2024 = consultation_statistics(
        actor=superuser_actor, fiscal_year=2024, group_by=["topic", "channel"]
    )
    assert [(r["topic"], r["channel"], r["minutes"]) for r in fy2024["rows"]] == [
        ("trademark", "phone", 50)
    ]
    assert fy2024["totals"]["new_companies"] == 1


def test_an_organisation_that_moves_prefecture_takes_its_statistics_along(
    network, superuser_actor
):
    staff = make_actor("yorozu-13", "window_staff")
    _log(staff, CompanyFactory(), (2025, 6, 2, 10, 0), ["patent"])
    org = Organisation.objects.get(code="yorozu-13")
    Organisation.objects.filter(pk=org.pk).update(prefecture_id="14")
    organisation_place_changed([org.pk])  # what the admin and the seeds call
    result = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["prefecture"]
    )
    assert _by(result, "prefecture") == {"14": 1}


def test_a_full_rebuild_gives_the_same_facts_as_the_service_wrote(
    network, superuser_actor
):
    staff = make_actor("inpit-window-27", "window_staff")
    company = CompanyFactory()
    _log(staff, company, (2025, 6, 2, 10, 0), ["patent", "overseas"])
    _log(staff, company, (2024, 6, 2, 10, 0), ["design"])  # back-dated first
    columns = [f.attname for f in ConsultationFact._meta.concrete_fields][1:]

    def snapshot():
        return sorted(ConsultationFact.objects.values_list(*columns))

    written = snapshot()
    assert consultation_facts_refresh() == 3
    assert snapshot() == written
    firsts = ConsultationFact.objects.filter(is_company_first=True)
    assert list(firsts.values_list("topic_no", flat=True)) == [TOPIC_NUMBERS["design"]]


def test_a_referral_between_window_and_yorozu_makes_the_case_a_link_until_cancelled(
    network, superuser_actor
):
    staff = make_actor("inpit-window-13", "window_staff")
    company = CompanyFactory()
    first = _log(staff, company, (2025, 6, 2, 10, 0), ["patent"])
    consultation_create(  # a second consultation on the same case
        actor=staff,
        company=company,
        case=first.case,
        occurred_at=dt.datetime(2025, 7, 2, 10, 0, tzinfo=JST),
        channel="phone",
        duration_minutes=20,
        topics=["patent"],
        summary="相談",
        now=NOW,
    )
    _log(staff, company, (2025, 7, 9, 10, 0), ["design"])  # a case of its own
    assert _links(superuser_actor) == ({"2025-06": 0, "2025-07": 0}, 0)
    ConsentFactory(company=company, scope="network", obtained_on=dt.date(2025, 1, 1))
    referral = referral_send(
        actor=staff,
        case=first.case,
        to_organisation=network["yorozu-13"],
        reason="経営面の支援",
        topics=["ip_management"],
        now=NOW,
    )
    assert _links(superuser_actor) == ({"2025-06": 1, "2025-07": 1}, 2)
    referral_cancel(actor=staff, referral=referral, note="取り下げ", now=NOW)
    assert _links(superuser_actor) == ({"2025-06": 0, "2025-07": 0}, 0)


def test_attendance_links_follow_the_attending_organisations_kind(
    network, superuser_actor
):
    staff = make_actor("yorozu-13", "window_staff")
    window = network["inpit-window-13"]
    _log(
        staff,
        CompanyFactory(),
        (2025, 6, 2, 10, 0),
        ["patent"],
        attendees=[window.code],
    )
    _log(staff, CompanyFactory(), (2025, 6, 3, 10, 0), ["design"])
    assert _links(superuser_actor) == ({"2025-06": 1}, 1)
    # The attending 窓口 is re-classified (admin, seeds): no longer a link.
    Organisation.objects.filter(pk=window.pk).update(kind="cci")
    organisation_place_changed([window.pk])
    assert _links(superuser_actor) == ({"2025-06": 0}, 0)


def test_on_postgresql_each_fiscal_years_facts_have_their_own_partition(network):
    staff = make_actor("inpit-window-13", "window_staff")
    company = CompanyFactory()
    _log(staff, company, (2025, 3, 31, 23, 30), ["patent"])  # FY2024
    _log(staff, company, (2025, 4, 1, 0, 30), ["patent", "design"])  # FY2025
    assert connection.vendor == "postgresql"  # the suite runs on PostgreSQL
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, fiscal_year, COUNT(*) "
            "FROM crm_consultationfact GROUP BY 1, 2 ORDER BY 2"
        )
        assert cursor.fetchall() == [
            ("crm_consultationfact_fy2024", 2024, 1),
            ("crm_consultationfact_fy2025", 2025, 2),
        ]


def test_topic_numbers_are_distinct_and_cover_every_topic():
    # Stored in the facts: a topic without a number, or two topics sharing
    # one, would drop or merge rows of the statistics.
    assert set(TOPIC_NUMBERS) == set(Topic)
    assert len(set(TOPIC_NUMBERS.values())) == len(TOPIC_NUMBERS)
    assert 0 not in TOPIC_NUMBERS.values()  # 0 is "no topic"


def test_the_rebuild_command_restores_facts_lost_around_the_services(
    network, superuser_actor
):
    staff = make_actor("inpit-window-13", "window_staff")
    _log(staff, CompanyFactory(), (2025, 6, 2, 10, 0), ["patent", "design"])
    ConsultationFact.objects.all().delete()  # e.g. rows loaded in plain SQL
    assert (
        consultation_statistics(actor=superuser_actor, fiscal_year=2025)["totals"][
            "consultations"
        ]
        == 0
    )
    out = io.StringIO()
    call_command("statistics_facts_rebuild", stdout=out)
    assert "2 行" in out.getvalue()
    result = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["topic"]
    )
    assert _by(result, "topic") == {"design": 1, "patent": 1}
    assert result["totals"]["consultations"] == 1


def test_each_prefecture_range_and_the_national_bodies_count_once(
    network, superuser_actor
):
    # On PostgreSQL a prefecture grouping reads prefectures 01–14, 15–47 and
    # the national bodies (no prefecture) as three branches: every row must
    # come back once, with the totals over all three.
    company = CompanyFactory()
    for code, topics in (
        ("inpit", ["patent"]),  # INPIT HQ: national, no prefecture
        ("inpit-window-13", ["patent", "design"]),
        ("inpit-window-14", ["design"]),
        ("yorozu-27", ["design"]),
    ):
        _log(make_actor(code, "window_staff"), company, (2025, 6, 2, 10, 0), topics)
    result = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["prefecture", "topic"]
    )
    rows = {(r["prefecture"], r["topic"]): r["consultations"] for r in result["rows"]}
    assert rows == {
        ("13", "design"): 1,
        ("13", "patent"): 1,
        ("14", "design"): 1,
        ("27", "design"): 1,
        (None, "patent"): 1,
    }
    national = next(r for r in result["rows"] if r["prefecture"] is None)
    assert national["prefecture_label"] == "（全国組織）"
    assert (result["totals"]["consultations"], result["totals"]["companies"]) == (4, 1)
    by_prefecture = consultation_statistics(
        actor=superuser_actor, fiscal_year=2025, group_by=["prefecture"]
    )
    assert _by(by_prefecture, "prefecture") == {"13": 1, "14": 1, "27": 1, None: 1}
