"""Statistics facts stay in step with every write that changes a consultation.

`crm.statistics` reads most consultation measures from `ConsultationFact`;
a fact that lagged behind would show managers wrong figures. Each write path
(the consultation service, an admin edit, an organisation's move, a full
rebuild) is checked here through the statistics a manager reads.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm.models import ConsultationFact
from crm.services.cases import consultation_create
from crm.services.facts import consultation_facts_refresh
from crm.statistics import consultation_statistics
from support_network.models import Organisation
from support_network.services import organisation_place_changed
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

JST = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=JST)

pytestmark = pytest.mark.django_db


def _log(actor, company, when, topics, minutes=30):
    return consultation_create(
        actor=actor,
        company=company,
        occurred_at=dt.datetime(*when, tzinfo=JST),
        channel="visit",
        duration_minutes=minutes,
        topics=topics,
        summary="相談",
        now=NOW,
    )


def _by(result, dim):
    return {r[dim]: r["consultations"] for r in result["rows"]}


def test_a_logged_consultation_has_one_fact_per_topic_and_one_primary(network):
    staff = make_actor("inpit-window-13", "window_staff")
    consultation = _log(
        staff, CompanyFactory(), (2025, 6, 2, 10, 0), ["patent", "trademark"], 45
    )
    facts = ConsultationFact.objects.filter(consultation=consultation)
    assert sorted(facts.values_list("topic", flat=True)) == ["patent", "trademark"]
    assert facts.filter(is_primary=True).count() == 1
    fact = facts.first()
    assert (fact.fiscal_year, fact.month, fact.prefecture_id, fact.minutes) == (
        2025,
        202506,
        "13",
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
    assert list(firsts.values_list("topic", flat=True)) == ["design"]
