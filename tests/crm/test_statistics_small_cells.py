"""Small statistics cells do not single out a confidential consultation (issue 26 item 5).

A black-box probe narrowed a 4-dimension filter to one cell and read
「1 consultation, 1 company, 30 minutes」 = confidential consultation 1002.
Rule (README "Statistics: definitions"): a cell with fewer than 3 consultations
that holds a confidential consultation the caller may not open is folded into
one 「その他（少数のため合算）」 row, with the smallest other cells while that row
is small; a 「その他」 row or totals that stay small show no figures. Whoever may
open the consultation sees the exact cells. API, managers' page and exports
all read the same service.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from crm.exports.statistics import consultation_statistics_export
from crm.services.consultations import consultation_create
from crm.statistics.consultations import consultation_statistics
from support_network.calendar import JST
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory

FY = 2025


def at(month, day, hour=10):
    return dt.datetime(2025, month, day, hour, tzinfo=JST)


@pytest.fixture
def logged(network):
    """INPIT 東京都窓口: 1 confidential trade-secret consultation (30 min) and
    ordinary patent (4) and trademark (2) consultations."""
    staff = make_actor("inpit-window-13", "window_staff", username="cells-staff")

    def log(topic, when, minutes=60, confidential=False):
        return consultation_create(
            actor=staff,
            company=CompanyFactory(registered_by=staff.organisation),
            occurred_at=when,
            channel="visit",
            duration_minutes=minutes,
            topics=[topic],
            summary="HUBTEST-SECRET 営業秘密の相談" if confidential else "相談",
            confidential=confidential,
            now=at(12, 1),
        )

    secret = log("trade_secret", at(6, 2), minutes=30, confidential=True)
    for day in (3, 4, 5, 6):
        log("patent", at(6, day))
    for day in (7, 8):
        log("trademark", at(6, day))
    return {"staff": staff, "secret": secret}


@pytest.fixture
def hub_manager(network):
    """関東経済産業局's manager: the region's statistics, not the case."""
    return make_actor("bureau-kanto", "manager", username="cells-hub-manager")


def by_topic(result):
    return {row["topic"]: row for row in result["rows"]}


def test_a_narrowed_cell_shows_no_figures_of_a_hidden_confidential_consultation(
    logged, hub_manager
):
    result = consultation_statistics(
        actor=hub_manager,
        fiscal_year=FY,
        group_by=["organisation", "channel", "month", "topic"],
        filters={"topic": "trade_secret"},
    )

    assert result["totals"]["consultations"] is None
    assert result["totals"]["minutes"] is None
    assert all(row["consultations"] is None for row in result["rows"])
    assert all(row["minutes"] != 30 for row in result["rows"])


def test_the_small_cell_is_folded_with_the_smallest_other_cell(logged, hub_manager):
    result = consultation_statistics(
        actor=hub_manager,
        fiscal_year=FY,
        group_by=["topic"],
        filters={"organisation": "inpit-window-13"},
    )

    rows = by_topic(result)
    assert "trade_secret" not in rows
    assert "trademark" not in rows  # folded with it: 1 + 2 = 3 consultations
    other = rows[None]
    assert other["topic_label"] == "その他（少数のため合算）"
    assert other["other"] is True
    assert other["consultations"] == 3
    assert other["minutes"] == 30 + 60 + 60
    assert rows["patent"]["consultations"] == 4
    assert result["totals"]["consultations"] == 7


def test_whoever_may_open_the_consultation_sees_the_exact_cells(logged):
    result = consultation_statistics(
        actor=logged["staff"],
        fiscal_year=FY,
        group_by=["topic"],
    )

    rows = by_topic(result)
    assert rows["trade_secret"]["consultations"] == 1
    assert rows["trade_secret"]["minutes"] == 30
    assert None not in rows


def test_without_confidential_consultations_small_cells_stay(network, hub_manager):
    staff = make_actor("inpit-window-13", "window_staff", username="cells-staff-2")
    consultation_create(
        actor=staff,
        company=CompanyFactory(registered_by=staff.organisation),
        occurred_at=at(6, 2),
        channel="visit",
        duration_minutes=30,
        topics=["trade_secret"],
        summary="相談",
        now=at(12, 1),
    )

    result = consultation_statistics(
        actor=hub_manager, fiscal_year=FY, group_by=["topic"]
    )

    assert by_topic(result)["trade_secret"]["consultations"] == 1


def test_api_answers_the_folded_row(api, logged, hub_manager):
    response = api(hub_manager).get(
        "/api/v1/statistics/consultations/",
        {"fiscal_year": FY, "group_by": "topic", "organisation": "inpit-window-13"},
    )

    assert response.status_code == 200
    topics = [row["topic"] for row in response.json()["rows"]]
    assert "trade_secret" not in topics
    assert None in topics


def test_export_shows_the_folded_row(logged, hub_manager):
    table = consultation_statistics_export(
        actor=hub_manager,
        fiscal_year=FY,
        params={"group_by": ["topic"], "filters": {"organisation": "inpit-window-13"}},
    )
    rows = list(table.rows)

    labels = [row[0] for row in rows]
    assert "営業秘密" not in labels
    assert "その他（少数のため合算）" in labels


def test_managers_page_shows_no_small_confidential_cell(logged, hub_manager):
    client = Client()
    client.force_login(hub_manager.user)

    html = client.get(reverse("crm:statistics"), {"fiscal_year": FY}).content.decode()

    assert "営業秘密" not in html
    assert "HUBTEST-SECRET" not in html
