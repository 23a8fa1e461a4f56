"""The managers' page /statistics/: KPI tiles, tables under the charts, exports.

A small data set is logged through the services (consultations, referrals
answered on known days, filings, a program enrolment) in two regions; the
expected figures below are worked out by hand from it, never by the code
under test. The tables under the charts carry the numbers, so the tests
read them.
"""

from __future__ import annotations

import datetime as dt
import io
from html.parser import HTMLParser

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse

from crm.exports.build import export_build
from crm.models import Export
from crm.services.cases import outcome_record
from crm.services.consultations import consultation_create
from crm.services.referral_transitions import referral_accept, referral_decline
from crm.services.referrals import referral_send
from crm.statistics.outcomes import filings_after_consultation
from support_network.calendar import JST
from support_network.models import Prefecture
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory
from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory, program

NOW = dt.datetime(2026, 1, 20, 12, 0, tzinfo=JST)
FY = 2025

# Consultations: (organisation, company, JST moment, topics, attendees).
# c1–c3 are Tokyo companies, c4 Nagano, c5 Osaka.
CONSULTATIONS = [
    ("inpit-window-13", "c1", (2025, 5, 12, 10), ["patent"], []),  # 0
    ("inpit-window-13", "c1", (2025, 5, 20, 14), ["patent", "trademark"], []),  # 1
    ("inpit-window-13", "c2", (2025, 7, 1, 10), ["trademark"], ["yorozu-13"]),  # 2
    ("yorozu-13", "c3", (2025, 7, 15, 10), ["ip_management"], []),  # 3
    ("inpit-window-20", "c4", (2025, 10, 3, 10), ["design"], []),  # 4
    ("inpit-window-27", "c5", (2025, 6, 2, 10), ["patent"], []),  # 5
    ("inpit-window-13", "c1", (2024, 11, 1, 10), ["patent"], []),  # 6 (FY2024)
    ("inpit-window-13", "c2", (2025, 12, 10, 10), ["trademark"], []),  # 7
    ("inpit-window-27", "c5", (2025, 12, 11, 10), ["overseas"], []),  # 8
]
COMPANY_PREFECTURES = {"c1": "13", "c2": "13", "c3": "13", "c4": "20", "c5": "27"}


def at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=JST)


def build_dataset(network) -> dict:
    """Log the data set through the services and return its objects."""
    companies = {
        key: CompanyFactory(prefecture=Prefecture.objects.get(code=pref))
        for key, pref in COMPANY_PREFECTURES.items()
    }
    staff = {
        code: make_actor(code, "window_staff", username=f"stat-staff-{code}")
        for code in {spec[0] for spec in CONSULTATIONS} | {"yorozu-27"}
    }
    logged = [
        consultation_create(
            actor=staff[org],
            company=companies[company],
            occurred_at=at(*when),
            channel="visit",
            duration_minutes=30,
            topics=topics,
            attendees=attendees,
            summary="相談",
            now=NOW,
        )
        for org, company, when, topics, attendees in CONSULTATIONS
    ]
    for key in ("c2", "c3", "c4", "c5"):
        ConsentFactory(
            company=companies[key], scope="network", obtained_on=dt.date(2025, 4, 1)
        )

    def send(sender, spec, receiver, when):
        return referral_send(
            actor=staff[sender],
            case=logged[spec].case,
            to_organisation=network[receiver],
            reason="専門的な支援",
            topics=["ip_management"],
            now=at(*when),
        )

    # R1 window → よろず, answered after 2 business days (Wed → Fri): accepted.
    r1 = send("inpit-window-13", 2, "yorozu-13", (2025, 7, 2, 10))
    referral_accept(actor=staff["yorozu-13"], referral=r1, now=at(2025, 7, 4, 10))
    # R2 window → よろず, answered the next business day: declined.
    r2 = send("inpit-window-20", 4, "yorozu-13", (2025, 10, 6, 10))
    referral_decline(actor=staff["yorozu-13"], referral=r2, now=at(2025, 10, 7, 10))
    # R3 よろず → window, waiting.
    send("yorozu-13", 3, "inpit-window-13", (2025, 8, 1, 10))
    # R4 in 近畿: accepted the next day.
    r4 = send("inpit-window-27", 5, "yorozu-27", (2025, 6, 3, 10))
    referral_accept(actor=staff["yorozu-27"], referral=r4, now=at(2025, 6, 4, 10))

    def filing(org, spec, day):
        outcome_record(
            actor=staff[org],
            case=logged[spec].case,
            kind="filing",
            occurred_on=day,
            reference=f"特願2025-{spec:06d}",
            today=NOW.date(),
        )

    filing("inpit-window-13", 0, dt.date(2025, 6, 1))  # after consultation 0
    filing("inpit-window-13", 2, dt.date(2025, 4, 10))  # before any: not counted
    filing("inpit-window-20", 4, dt.date(2025, 11, 1))  # after consultation 4

    ipas = ProgramRoundFactory(program=program("ipas"), fiscal_year=FY, capacity=20)
    EnrolmentFactory(
        round=ipas,
        company=companies["c1"],
        organisation=network["inpit-window-13"],
        status="accepted",
    )
    EnrolmentFactory(
        round=ipas,
        company=companies["c5"],
        organisation=network["inpit-window-27"],
        status="applied",
    )
    return {"companies": companies, "staff": staff, "consultations": logged}


@pytest.fixture
def dataset(network):
    return build_dataset(network)


@pytest.fixture
def kanto_manager(network):
    """Manager of 関東経済産業局: reach = the 関東 prefectures (東京, 長野, …)."""
    return make_actor("bureau-kanto", "manager", username="kanto-manager")


@pytest.fixture
def kinki_manager(network):
    return make_actor("bureau-kinki", "manager", username="kinki-manager")


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


# --- reading the page --------------------------------------------------------------


class _Page(HTMLParser):
    """Collect the tables (by id) as rows of cell texts, and the KPI values."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.kpis: dict[str, str] = {}
        self._table = None
        self._row = None
        self._cell = None
        self._kpi = None
        self._kpi_text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id", "").startswith("table-"):
            self._table = attrs["id"].removeprefix("table-")
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self._row = []
        elif self._row is not None and tag in ("td", "th"):
            self._cell = ""
        elif "data-kpi" in attrs:
            self._kpi, self._kpi_text = attrs["data-kpi"], ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "strong" and self._kpi:
            self.kpis[self._kpi] = self._kpi_text.strip()
            self._kpi = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._kpi:
            self._kpi_text += data


def read(response) -> _Page:
    assert response.status_code == 200, response.content.decode()[:500]
    parser = _Page()
    parser.feed(response.content.decode())
    return parser


def body(table: list[list[str]]) -> dict[str, list[str]]:
    """Return the table's data rows (header row dropped) by their first cell."""
    return {row[0]: row[1:] for row in table[1:]}


def get_page(actor, **params):
    return client_for(actor).get(reverse("crm:statistics"), params)


# --- the page --------------------------------------------------------------------------


@pytest.mark.django_db
def test_manager_sees_the_region_figures_in_tiles_and_tables(dataset, kanto_manager):
    page = read(get_page(kanto_manager, fiscal_year=FY))
    # 関東: consultations 0–4 and 7; c1 first came in FY2024, so 3 are new;
    # よろず連携: 2 (attended), 3 (case referred to a 窓口), 4 (referred to a よろず).
    assert page.kpis == {
        "consultations": "6",
        "companies": "4",
        "new_companies": "3",
        "yorozu_links": "3",
        "acceptance_rate": "50.0%",  # R1 accepted, R2 declined, R3 waiting
        "median_answer": "1.5",  # 2 and 1 business days
        "filings": "2",  # the 2025-04-10 filing preceded its case's consultation
        # The companies of consultations 0 and 4 (SMEs) first filed after them.
        "first_filers": "2",
        "licences": "0",
        "funds_raised": "0円",
        "satisfaction": "—",  # no survey answered
    }
    months = body(page.tables["month"])
    # April to March, empty months as 0, then the year's total.
    assert next(iter(months)) == "2025年4月"
    assert list(months)[-2:] == ["2026年3月", "年度計"]
    assert len(months) == 13
    assert months["2025年5月"] == ["2", "1", "0", "0"]
    assert months["2025年7月"] == ["2", "2", "2", "2"]
    assert months["2025年10月"] == ["1", "1", "1", "1"]
    assert months["2025年12月"] == ["1", "1", "0", "0"]
    assert months["2026年3月"] == ["0", "0", "0", "0"]
    assert page.tables["month"][-1] == ["年度計", "6", "4", "3", "3"]
    assert body(page.tables["prefecture"]) == {
        "東京都": ["5", "3"],
        "長野県": ["1", "1"],
    }
    # A consultation counts once in each of its topics (consultation 1: two).
    assert body(page.tables["topic"]) == {
        "商標": ["3", "2"],
        "特許": ["2", "1"],
        "意匠": ["1", "1"],
        "知財管理・知財経営": ["1", "1"],
    }
    assert body(page.tables["referrals"]) == {
        "紹介（送付）": ["3"],
        "受入": ["1"],
        "完了": ["0"],
        "回答待ち": ["1"],
        "辞退": ["1"],
        "期限切れ": ["0"],
        "取消": ["0"],
    }
    programs = body(page.tables["programs"])
    assert programs == {"IPAS 知財アクセラレーションプログラム": ["1", "1", "0", "20"]}


@pytest.mark.django_db
def test_the_page_embeds_the_chart_data_and_loads_chart_js_from_the_app(
    dataset, kanto_manager
):
    html = get_page(kanto_manager, fiscal_year=FY).content.decode()
    assert '<script id="statistics-data" type="application/json">' in html
    assert "/static/vendor/chartjs/chart-4.6.1.umd.min.js" in html
    assert "/static/js/statistics.js" in html
    assert 'data-chart="prefecture"' in html
    # No inline script: only json_script data and external files (CSP).
    for chunk in html.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head, head
    assert "2025年度（令和7年度）" in html


@pytest.mark.django_db
def test_window_staff_see_their_own_organisation_only(dataset):
    staff = dataset["staff"]["inpit-window-13"]
    response = get_page(staff, fiscal_year=FY)
    page = read(response)
    assert page.kpis == {
        "consultations": "4",  # 0, 1, 2, 7
        "companies": "2",
        "new_companies": "1",  # c2
        "yorozu_links": "1",  # consultation 2 (attended by よろず)
        "acceptance_rate": "100.0%",  # R1 accepted; R3 to it still waiting
        "median_answer": "2",
        "filings": "1",
        "first_filers": "1",  # consultation 0's company
        "licences": "0",
        "funds_raised": "0円",
        "satisfaction": "—",  # no survey answered
    }
    assert body(page.tables["prefecture"]) == {"東京都": ["4", "2"]}
    assert "長野県" not in response.content.decode()
    assert 'name="scope"' not in response.content.decode().split("export-form")[0]


@pytest.mark.django_db
def test_a_manager_of_another_region_does_not_see_this_region(dataset, kinki_manager):
    page = read(get_page(kinki_manager, fiscal_year=FY))
    assert body(page.tables["prefecture"]) == {"大阪府": ["2", "1"]}
    assert page.kpis["consultations"] == "2"
    assert page.kpis["yorozu_links"] == "1"  # consultation 5: referred to よろず
    assert body(page.tables["referrals"])["受入"] == ["1"]
    assert page.kpis["acceptance_rate"] == "100.0%"
    assert page.kpis["median_answer"] == "1"
    assert page.kpis["filings"] == "0"


@pytest.mark.django_db
def test_manager_narrows_the_scope_to_the_own_organisation(dataset, kanto_manager):
    response = get_page(kanto_manager, fiscal_year=FY, scope="organisation")
    page = read(response)
    # The bureau itself logged nothing.
    assert page.kpis["consultations"] == "0"
    assert "prefecture" not in page.tables  # "no data" instead of an empty table
    assert "この年度のデータはありません。" in response.content.decode()
    html = read(get_page(kanto_manager, fiscal_year=FY)).kpis
    assert html["consultations"] == "6"


@pytest.mark.django_db
def test_fiscal_year_switch(dataset, kanto_manager):
    response = get_page(kanto_manager, fiscal_year=2024)
    page = read(response)
    assert page.kpis["consultations"] == "1"  # consultation 6, 2024-11-01
    assert page.kpis["new_companies"] == "1"
    assert body(page.tables["month"])["2024年11月"] == ["1", "1", "1", "0"]
    html = response.content.decode()
    assert '<option value="2024" selected>2024年度（令和6年度）</option>' in html
    # A bad year falls back to the current one with a message, never a 500.
    response = get_page(kanto_manager, fiscal_year="abc")
    assert response.status_code == 200
    assert "年度の指定が正しくないため" in response.content.decode()


@pytest.mark.django_db
def test_experts_get_a_japanese_no_access_page(network):
    expert = make_actor("inpit-window-13", "expert", username="stat-expert")
    response = get_page(expert)
    assert response.status_code == 403
    html = response.content.decode()
    assert "統計は閲覧できません" in html
    assert "統計を閲覧する権限がありません。" in html
    # The menu offers statistics to the roles that have them only.
    home = client_for(expert).get(reverse("crm:company-search")).content.decode()
    assert reverse("crm:statistics") not in home


@pytest.mark.django_db
def test_menu_links_the_page_for_managers(kanto_manager):
    html = client_for(kanto_manager).get(reverse("crm:statistics")).content.decode()
    assert f'href="{reverse("crm:statistics")}"' in html


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_login():
    response = Client().get(reverse("crm:statistics"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_filings_after_consultation_selector(dataset, kanto_manager):
    staff = dataset["staff"]["inpit-window-13"]
    assert filings_after_consultation(actor=kanto_manager, fiscal_year=FY) == 2
    assert (
        filings_after_consultation(
            actor=kanto_manager, fiscal_year=FY, scope="organisation"
        )
        == 0
    )
    assert filings_after_consultation(actor=staff, fiscal_year=FY) == 1
    case = dataset["consultations"][7].case  # consulted on 2025-12-10

    def record(kind, day):
        outcome_record(
            actor=staff,
            case=case,
            kind=kind,
            occurred_on=day,
            reference="特願2025-999999",
            today=dt.date(2026, 4, 30),
        )

    record("filing", dt.date(2025, 12, 10))  # the same day: it followed
    record("registration", dt.date(2026, 1, 5))  # not a filing
    record("filing", dt.date(2026, 4, 1))  # the next fiscal year
    assert filings_after_consultation(actor=staff, fiscal_year=FY) == 2
    assert filings_after_consultation(actor=staff, fiscal_year=FY + 1) == 1
    assert filings_after_consultation(actor=kanto_manager, fiscal_year=FY) == 3


# --- exports from the page -------------------------------------------------------------


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    """Export files of these tests go to a temporary directory."""
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def start_export(client, **data):
    return client.post(
        reverse("crm:statistics-export"),
        {"fiscal_year": FY, "scope": "reach", "format": "xlsx", **data},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.django_db
def test_export_start_status_and_download(dataset, kanto_manager):
    client = client_for(kanto_manager)
    response = start_export(client, kind="consultation_statistics")
    assert response.status_code == 202, response.content
    started = response.json()
    assert started["status"] == "pending"
    assert started["progress"] == 0
    assert started["download_url"] is None
    export = Export.objects.get(pk=started["id"])
    assert (export.kind, export.fiscal_year, export.format) == (
        "consultation_statistics",
        FY,
        "xlsx",
    )
    assert export.requested_by == kanto_manager.user
    assert export.params["scope"] == "reach"

    status = client.get(started["status_url"]).json()
    assert (status["status"], status["progress"]) == ("pending", 0)

    # The Celery task's body, run here (the browser test uses a real worker).
    export_build(export_id=export.pk)
    status = client.get(started["status_url"]).json()
    assert status["status"] == "done"
    assert status["progress"] == 100
    assert status["download_url"]

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("都道府県（対応組織）", "相談分野", "相談件数")
    # The 合計 row, then the outcome KPIs of the year (issue 16 item 7).
    total = next(i for i, r in enumerate(rows) if r[0] == "合計")
    cells = {(r[0], r[1]): r[2] for r in rows[1:total]}
    assert cells[("東京都", "商標")] == 3
    assert cells[("長野県", "意匠")] == 1
    assert ("大阪府", "特許") not in cells  # another region
    assert rows[total][2] == 6
    assert rows[total + 1][:3] == ("（成果）相談後の出願件数", None, 2)


@pytest.mark.django_db
def test_an_export_is_only_visible_to_its_requester(dataset, kanto_manager):
    response = start_export(client_for(kanto_manager), kind="consultations")
    export_id = response.json()["id"]
    other = make_actor("bureau-kanto", "manager", username="kanto-manager-2")
    for name in ("crm:statistics-export-status", "crm:statistics-export-download"):
        url = reverse(name, args=[export_id])
        assert client_for(other).get(url).status_code == 404


@pytest.mark.django_db
def test_export_refusals_answer_json_with_the_reason(dataset, kanto_manager):
    response = start_export(client_for(kanto_manager), kind="nonsense")
    assert response.status_code == 400
    assert response.json()["field"] == "kind"
    expert = make_actor("inpit-window-13", "expert", username="stat-expert-2")
    response = start_export(client_for(expert), kind="consultations")
    assert response.status_code == 403
    assert "専門家" in response.json()["detail"]


@pytest.mark.django_db
def test_export_without_javascript_comes_back_to_the_page_with_its_state(
    dataset, kanto_manager
):
    client = client_for(kanto_manager)
    response = client.post(
        reverse("crm:statistics-export"),
        {
            "fiscal_year": FY,
            "scope": "reach",
            "kind": "referrals",
            "format": "csv",
            "encoding": "cp932",
        },
    )
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.encoding == "cp932"
    assert f"export={export.pk}" in response["Location"]
    html = client.get(response["Location"]).content.decode()
    assert "紹介: 待機中（0%）" in html


@pytest.mark.django_db
def test_a_regional_manager_is_told_row_level_exports_follow_case_visibility(
    network, kanto_manager
):
    html = get_page(kanto_manager).content.decode()
    assert 'id="export-rows-note"' in html
    assert "0行になることがあります" in html


@pytest.mark.django_db
def test_an_organisation_manager_gets_no_such_note(network):
    manager = make_actor("inpit-window-13", "manager", username="window-manager")
    html = get_page(manager).content.decode()
    assert 'id="export-rows-note"' not in html
