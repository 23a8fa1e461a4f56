"""Exports end to end: request through the API, build, open the file back.

A small known data set across two fiscal years and two organisations; the
build runs in-process (`export_build`, the body of the Celery task), and
one test runs it on a real Celery worker. Each file is opened back with csv
or openpyxl and checked cell by cell.
"""

from __future__ import annotations

import csv
import io
import os
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import unquote

import openpyxl
import pytest
from django.utils import timezone

from crm.exports.build import export_build
from crm.exports.requests import export_request
from crm.exports.sweeps import exports_cleanup
from crm.models import (
    AuditEvent,
    ConsultationIpType,
    ConsultationTopic,
    Export,
    ReferralTopic,
)
from crm.statistics.consultations import consultation_statistics
from crm.statistics.facts import consultation_facts_refresh
from support_network.calendar import JST
from support_network.models import Membership, Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsultationFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

FY = 2025
TOYOTA = "1180301018771"  # a valid 法人番号 (reference/houjin_bangou.md §3)
INJECTION = '=HYPERLINK("http://evil.example","click")'

CONSULTATION_HEADER = [
    "相談ID",
    "相談日",
    "年度",
    "企業等",
    "法人番号",
    "都道府県（企業等）",
    "相談方法",
    "相談分野",
    "知財の種類",
    "所要時間（分）",
    "担当組織",
    "都道府県（担当組織）",
    "担当者",
    "案件ID",
    "件名",
    "秘匿",
]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=JST)


def consult(case, when, *, topics=(), ip_types=(), **kwargs):
    c = ConsultationFactory(case=case, occurred_at=when, **kwargs)
    for t in topics:
        ConsultationTopic.objects.create(consultation=c, topic=t)
    for t in ip_types:
        ConsultationIpType.objects.create(consultation=c, ip_type=t)
    # Rows written past the service: build their statistics facts as bulk
    # loaders do.
    consultation_facts_refresh(consultation_ids=[c.pk])
    return c


@pytest.fixture
def data(staff_a, staff_b, network):
    """Consultations of A and B around the FY2025 boundaries."""
    user = staff_a.user
    user.last_name, user.first_name = "山田", "花子"
    user.save()
    a = network[ORG_A]
    plain = CaseFactory(
        company=CompanyFactory(name="株式会社テスト工業", corporate_number=TOYOTA),
        organisation=a,
        created_by=user,
        title="特許出願の相談",
    )
    evil = CaseFactory(
        company=CompanyFactory(name=INJECTION),
        organisation=a,
        created_by=user,
        title="-1+1 件名も無害化",
    )
    yoshi = CaseFactory(
        company=CompanyFactory(name="𠮷野家"), organisation=a, created_by=user
    )
    # A confidential case assigned to a colleague: not staff_a's (rule 4).
    colleague = make_actor(ORG_A, "window_staff", "colleague-a")
    secret = CaseFactory(
        company=CompanyFactory(name="秘密工業"),
        organisation=a,
        created_by=colleague.user,
        assignee=colleague.user,
        is_confidential=True,
    )
    other = CaseFactory(
        company=CompanyFactory(name="大阪商事"),
        organisation=network[ORG_B],
        created_by=staff_b.user,
    )
    c = {
        "first": consult(
            plain,
            jst(2025, 4, 1, 10, 0),
            topics=["patent", "trademark"],
            ip_types=["patent"],
            author=user,
            duration_minutes=60,
        ),
        "evil": consult(
            evil,
            jst(2025, 6, 2, 14, 0),
            topics=["branding"],
            author=user,
            channel="phone",
            duration_minutes=30,
        ),
        # 3/31 23:30 JST: still FY2025.
        "last": consult(
            yoshi,
            jst(2026, 3, 31, 23, 30),
            topics=["patent"],
            author=user,
            channel="online",
            duration_minutes=45,
        ),
        # 4/1 00:30 JST: FY2026.
        "next_year": consult(plain, jst(2026, 4, 1, 0, 30), topics=["patent"]),
        "secret": consult(
            secret,
            jst(2025, 9, 1, 9, 0),
            topics=["trade_secret"],
            author=colleague.user,
            duration_minutes=90,
        ),
        "other_org": consult(other, jst(2025, 7, 1, 9, 0), topics=["patent"]),
    }
    return c


def build(export: Export) -> Export:
    export_build(export_id=export.pk)
    export.refresh_from_db()
    return export


def request_and_build(actor, **kwargs) -> Export:
    kwargs.setdefault("fiscal_year", FY)
    return build(export_request(actor=actor, **kwargs))


def file_of(export: Export):
    from crm.exports.files import export_file_path

    return export_file_path(export)


def read_csv(export: Export, encoding="utf-8-sig") -> list[list[str]]:
    with open(file_of(export), encoding=encoding, newline="") as f:
        return list(csv.reader(f))


# --- consultations --------------------------------------------------------------------


def test_consultations_csv_cell_by_cell(data, staff_a):
    export = request_and_build(staff_a, kind="consultations", format="csv")
    assert export.status == "done", export.error
    assert export.progress == 100
    assert export.row_count == 3
    rows = read_csv(export)
    assert rows[0] == CONSULTATION_HEADER
    first, evil, last = data["first"], data["evil"], data["last"]
    assert rows[1] == [
        str(first.pk),
        "2025-04-01",
        "2025年度（令和7年度）",
        "株式会社テスト工業",
        TOYOTA,
        "東京都",
        "来所",
        "特許、商標",
        "特許",
        "60",
        first.organisation.name,
        "東京都",
        "山田 花子",
        str(first.case_id),
        "特許出願の相談",
        "",
    ]
    # Formula injection: the company name and the title are quoted.
    assert rows[2][0] == str(evil.pk)
    assert rows[2][3] == "'" + INJECTION
    assert rows[2][6:8] == ["電話", "ブランディング"]
    assert rows[2][14] == "'-1+1 件名も無害化"
    # The fiscal year ends at 3/31 23:59 JST; 4/1 00:30 belongs to FY2026.
    assert rows[3][:4] == [
        str(last.pk),
        "2026-03-31",
        "2025年度（令和7年度）",
        "𠮷野家",
    ]
    assert len(rows) == 4  # no confidential row of a colleague, no other org


def test_consultations_xlsx_cell_by_cell(data, staff_a):
    export = request_and_build(staff_a, kind="consultations", format="xlsx")
    assert export.status == "done", export.error
    assert export.encoding == "utf-8-sig"
    workbook = openpyxl.load_workbook(file_of(export))
    sheet = workbook.active
    assert sheet.title == "相談記録 2025年度"
    assert [c.value for c in sheet[1]] == CONSULTATION_HEADER
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P4"
    assert sheet.max_row == 4
    row = sheet[2]
    assert row[0].value == data["first"].pk and row[0].data_type == "n"
    assert row[1].is_date and row[1].number_format == "yyyy/mm/dd"
    assert row[1].value.date().isoformat() == "2025-04-01"
    assert row[2].value == "2025年度（令和7年度）"
    assert row[4].value == TOYOTA and row[4].data_type == "s"  # not a number
    assert row[9].value == 60 and row[9].data_type == "n"
    assert row[13].value == data["first"].case_id
    assert row[15].value is None
    evil = sheet[3][3]
    assert evil.value == "'" + INJECTION and evil.data_type == "s"
    assert sheet["D4"].value == "𠮷野家"
    # Sensible widths: the company column is wide, the ID column narrow.
    assert sheet.column_dimensions["D"].width > 30
    assert sheet.column_dimensions["A"].width < 15


def test_visibility_manager_sees_confidential_other_org_never(data, manager_a, staff_b):
    export = request_and_build(manager_a, kind="consultations", format="csv")
    ids = [int(r[0]) for r in read_csv(export)[1:]]
    assert ids == [
        data["first"].pk,
        data["evil"].pk,
        data["secret"].pk,
        data["last"].pk,
    ]
    assert read_csv(export)[3][15] == "○"  # 秘匿
    export_b = request_and_build(staff_b, kind="consultations", format="csv")
    assert [int(r[0]) for r in read_csv(export_b)[1:]] == [data["other_org"].pk]


def test_cp932_export_replaces_and_counts_characters_outside_cp932(data, staff_a):
    export = request_and_build(
        staff_a, kind="consultations", format="csv", encoding="cp932"
    )
    assert export.status == "done", export.error
    raw = file_of(export).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = read_csv(export, encoding="cp932")
    assert rows[0] == CONSULTATION_HEADER
    assert rows[3][3] == "〓野家"
    assert export.replaced_char_count == 1
    assert rows[1][3] == "株式会社テスト工業"


def test_fiscal_year_2026_has_only_the_april_first_consultation(data, staff_a):
    export = request_and_build(
        staff_a, kind="consultations", format="csv", fiscal_year=2026
    )
    rows = read_csv(export)
    assert [int(r[0]) for r in rows[1:]] == [data["next_year"].pk]
    assert rows[1][1:3] == ["2026-04-01", "2026年度（令和8年度）"]


def test_empty_export_has_the_header(staff_a):
    export = request_and_build(staff_a, kind="consultations", format="xlsx")
    assert export.status == "done" and export.row_count == 0
    sheet = openpyxl.load_workbook(file_of(export)).active
    assert [c.value for c in sheet[1]] == CONSULTATION_HEADER


# --- statistics -----------------------------------------------------------------------


def test_statistics_export_matches_the_statistics_service(data, manager_a):
    export = request_and_build(manager_a, kind="consultation_statistics", format="xlsx")
    assert export.status == "done", export.error
    assert export.params["group_by"] == ["prefecture", "topic"]
    sheet = openpyxl.load_workbook(file_of(export)).active
    header = [c.value for c in sheet[1]]
    assert header == [
        "都道府県（対応組織）",
        "相談分野",
        "相談件数",
        "企業数",
        "新規企業数",
        "相談時間（分）",
    ]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    # Worked out by hand: A's FY2025 consultations (the manager sees its own
    # organisation, confidential included): first (patent, trademark, 60),
    # evil (branding, 30), secret (trade_secret, 90), last (patent, 45).
    # The 合計 row, then the 4 outcome KPI rows (issue 16 item 7).
    kpi_rows = values[-4:]
    values = values[:-4]
    assert [r[0] for r in kpi_rows] == [
        "（成果）相談後の出願件数",
        "（成果）相談後のライセンス契約件数",
        "（成果）相談後の資金調達件数",
        "（成果）相談後の資金調達額（円）",
    ]
    by_topic = {r[1]: r[2:] for r in values[:-1]}
    assert all(r[0] == "東京都" for r in values[:-1])
    assert by_topic["特許"][0] == 2 and by_topic["特許"][3] == 105
    assert by_topic["商標"][0] == 1 and by_topic["商標"][3] == 60
    assert by_topic["ブランディング"][0] == 1
    assert by_topic["営業秘密"][0] == 1 and by_topic["営業秘密"][3] == 90
    total = values[-1]
    assert total[:2] == ["合計", None]
    assert total[2] == 4 and total[5] == 60 + 30 + 90 + 45  # each consultation once
    assert all(isinstance(v, int) for r in values for v in r[2:])
    # The same figures as the service the API and the page use.
    stats = consultation_statistics(
        actor=manager_a, fiscal_year=FY, group_by=["prefecture", "topic"]
    )
    assert len(values) == len(stats["rows"]) + 1
    assert total[2:] == [
        stats["totals"][m]
        for m in ("consultations", "companies", "new_companies", "minutes")
    ]


def test_statistics_export_csv_with_group_by_month(data, manager_a, api):
    response = api(manager_a).post(
        "/api/v1/exports/",
        {
            "kind": "consultation_statistics",
            "fiscal_year": FY,
            "format": "csv",
            "group_by": "month",
        },
        format="json",
    )
    assert response.status_code == 202, response.json()
    export = build(Export.objects.get(pk=response.json()["id"]))
    rows = read_csv(export)
    assert rows[0] == ["月", "相談件数", "企業数", "新規企業数", "相談時間（分）"]
    assert [r[1] for r in rows[1:-5]] == ["1", "1", "1", "1"]  # Apr, Jun, Sep, Mar
    assert rows[-5][:2] == ["合計", "4"]
    assert rows[-1][0] == "（成果）相談後の資金調達額（円）"


def test_experts_may_not_export(data, expert_a, api):
    for kind in ("consultations", "consultation_statistics"):
        response = api(expert_a).post(
            "/api/v1/exports/",
            {"kind": kind, "fiscal_year": FY, "format": "csv"},
            format="json",
        )
        assert response.status_code == 403, response.json()
    assert not Export.objects.exists()


# --- referrals and enrolments -----------------------------------------------------------


def test_referrals_export_for_the_receiver(data, staff_a, staff_b, network):
    case = data["first"].case
    referral = ReferralFactory(
        case=case,
        to_organisation=network[ORG_B],
        sent_by=staff_a.user,
        sent_at=jst(2025, 5, 7, 9, 15),
        status="declined",
        answered_at=jst(2025, 5, 8, 10, 0),
        answer_business_days=1,
    )
    ReferralTopic.objects.create(referral=referral, topic="patent")
    # A's referral of the same case to a third organisation, and one of
    # FY2024 (3/31 23:00 JST): absent. The declined referral leaves B only
    # its own record, not the case (rule 3).
    ReferralFactory(
        case=case, to_organisation=network["yorozu-13"], sent_at=jst(2025, 5, 8)
    )
    ReferralFactory(
        case=case,
        to_organisation=network[ORG_B],
        sent_at=jst(2025, 3, 31, 23),
        status="declined",
    )
    export = request_and_build(staff_b, kind="referrals", format="xlsx")
    assert export.status == "done", export.error
    sheet = openpyxl.load_workbook(file_of(export)).active
    header = [c.value for c in sheet[1]]
    assert header[:10] == [
        "紹介ID",
        "紹介日時",
        "年度",
        "紹介元",
        "紹介先",
        "企業等",
        "法人番号",
        "都道府県（企業等）",
        "分野",
        "状態",
    ]
    assert sheet.max_row == 2, [[c.value for c in r] for r in sheet.iter_rows()]
    row = {h: c for h, c in zip(header, sheet[2], strict=True)}
    assert row["紹介ID"].value == referral.pk
    assert row["紹介日時"].is_date
    assert row["紹介日時"].value.isoformat() == "2025-05-07T09:15:00"  # JST
    assert row["紹介元"].value == network[ORG_A].name
    assert row["企業等"].value == "株式会社テスト工業"
    assert row["分野"].value == "特許"
    assert row["状態"].value == "辞退"
    assert row["回答までの営業日数"].value == 1


def test_enrolments_export_registered_by_programs(data, staff_a, staff_b):
    from tests.programs.factories import EnrolmentFactory, ProgramRoundFactory

    round_ = ProgramRoundFactory(fiscal_year=FY)
    enrolment = EnrolmentFactory(
        round=round_,
        company=data["first"].company,
        status="active",
        scheme="",
        days_used=Decimal("2.5"),
        started_on=jst(2025, 7, 1).date(),
    )
    export = request_and_build(staff_a, kind="enrolments", format="xlsx")
    assert export.status == "done", export.error
    sheet = openpyxl.load_workbook(file_of(export)).active
    assert [c.value for c in sheet[1]][:4] == ["参加ID", "支援事業", "年度", "企業等"]
    row = [c.value for c in sheet[2]]
    assert row[0] == enrolment.pk
    assert row[1] == round_.program.name
    assert row[2] == "2025年度（令和7年度）"
    assert row[3] == "株式会社テスト工業"
    assert row[8] == "支援中"
    assert sheet["J2"].is_date and sheet["J2"].value.isoformat().startswith(
        "2025-07-01"
    )
    assert row[12] == 2.5 and sheet["M2"].data_type == "n"
    # Organisation B sees nothing of A's enrolments.
    export_b = request_and_build(staff_b, kind="enrolments", format="csv")
    assert export_b.row_count == 0
    # No data row; the first line says why the file is empty, then the header.
    lines = read_csv(export_b)
    assert lines[0][0].startswith("該当する行はありません。")
    assert lines[2:] == []


# --- the API: request, status, validation ------------------------------------------------


def test_post_returns_202_and_the_status_then_done_with_a_link(data, staff_a, api):
    client = api(staff_a)
    response = client.post(
        "/api/v1/exports/",
        {"kind": "consultations", "fiscal_year": FY, "format": "xlsx"},
        format="json",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending" and body["progress"] == 0
    assert body["download_url"] is None
    build(Export.objects.get(pk=body["id"]))
    detail = client.get(f"/api/v1/exports/{body['id']}/").json()
    assert detail["status"] == "done" and detail["progress"] == 100
    assert detail["row_count"] == 3
    assert detail["fiscal_year_label"] == "2025年度（令和7年度）"
    assert detail["download_url"].endswith(f"/api/v1/exports/{body['id']}/download/")
    assert {"kind", "format", "encoding", "created_at", "expires_at", "error"} <= set(
        detail
    )
    expires = datetime.fromisoformat(detail["expires_at"])
    created = datetime.fromisoformat(detail["created_at"])
    assert expires - created == timedelta(days=7)
    listed = client.get("/api/v1/exports/").json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "companies"}, "kind"),
        ({"format": "pdf"}, "format"),
        ({"encoding": "euc-jp"}, "encoding"),
        ({"fiscal_year": "abc"}, "fiscal_year"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"fiscal_year": 2999}, "fiscal_year"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(staff_a, api, body, field):
    payload = {"kind": "consultations", "fiscal_year": FY, "format": "csv", **body}
    response = api(staff_a).post("/api/v1/exports/", payload, format="json")
    assert response.status_code == 400
    messages = response.json()[field]
    assert messages and any("\u3040" <= ch <= "\u9fff" for ch in messages[0])


def test_bad_group_by_is_a_400(manager_a, api):
    response = api(manager_a).post(
        "/api/v1/exports/",
        {
            "kind": "consultation_statistics",
            "fiscal_year": FY,
            "format": "csv",
            "group_by": "prefecture,shoe_size",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "group_by" in response.json()


def test_at_most_three_exports_under_way(staff_a):
    for _ in range(3):
        export_request(
            actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
        )
    from support_network.errors import Conflict

    with pytest.raises(Conflict):
        export_request(
            actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
        )


# --- download: who, audit, expiry ---------------------------------------------------------


def test_download_by_requester_and_org_admin_only(
    data, staff_a, staff_a2, staff_b, api
):
    export = request_and_build(staff_a, kind="consultations", format="csv")
    url = f"/api/v1/exports/{export.pk}/download/"
    response = api(staff_a).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="consultations_fy2025_')
    name = unquote(disposition.split("filename*=UTF-8''")[1])
    assert name.startswith("相談記録_2025年度_inpit-window-13_") and name.endswith(
        ".csv"
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(body))) == CONSULTATION_HEADER
    # Same organisation, another member; another organisation: 404, no file.
    for other in (staff_a2, staff_b):
        assert api(other).get(url).status_code == 404
        assert api(other).get(f"/api/v1/exports/{export.pk}/").status_code == 404
    admin_a = make_actor(ORG_A, "org_admin")
    assert api(admin_a).get(url).status_code == 200
    assert api(admin_a).get(f"/api/v1/exports/{export.pk}/").status_code == 200
    admin_b = make_actor(ORG_B, "org_admin")
    assert api(admin_b).get(url).status_code == 404
    events = AuditEvent.objects.filter(object_type="export", object_id=str(export.pk))
    assert sorted(events.values_list("action", "actor__username")) == [
        ("export.create", staff_a.user.username),
        ("export.download", admin_a.user.username),
        ("export.download", staff_a.user.username),
    ]
    create = events.get(action="export.create")
    assert create.organisation_id == staff_a.organisation_id
    assert create.data["kind"] == "consultations"


def test_download_accepts_any_accept_header_and_xlsx_type(data, staff_a, api):
    export = request_and_build(staff_a, kind="consultations", format="xlsx")
    response = api(staff_a).get(
        f"/api/v1/exports/{export.pk}/download/",
        HTTP_ACCEPT="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.active.max_row == 4
    # A 404 is JSON whatever was accepted.
    missing = api(staff_a).get(
        "/api/v1/exports/999999/download/", HTTP_ACCEPT="text/csv"
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_download_before_done_is_409(staff_a, api):
    export = export_request(
        actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
    )
    response = api(staff_a).get(f"/api/v1/exports/{export.pk}/download/")
    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"


def test_expired_is_410_then_cleanup_deletes_file_and_row(
    data, staff_a, api, export_dir
):
    export = request_and_build(staff_a, kind="consultations", format="csv")
    path = file_of(export)
    assert path.exists()
    keep = request_and_build(staff_a, kind="consultations", format="xlsx")
    later = timezone.now() + timedelta(days=7, minutes=1)
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now())
    response = api(staff_a).get(f"/api/v1/exports/{export.pk}/download/")
    assert response.status_code == 410
    assert (
        api(staff_a).get(f"/api/v1/exports/{export.pk}/").json()["download_url"] is None
    )
    result = exports_cleanup()
    assert result["deleted"] == 1
    assert not path.exists()
    assert not Export.objects.filter(pk=export.pk).exists()
    assert api(staff_a).get(f"/api/v1/exports/{export.pk}/download/").status_code == 404
    assert file_of(keep).exists()
    # Seven days later the other one goes too.
    assert exports_cleanup(now=later)["deleted"] == 1
    assert list(export_dir.iterdir()) == []


def test_cleanup_removes_old_temporary_and_orphan_files(export_dir):
    export_dir.mkdir(parents=True, exist_ok=True)
    old = (timezone.now() - timedelta(days=2)).timestamp()
    for name in (".tmp-1-abc.csv", "99-dead.xlsx"):
        (export_dir / name).write_bytes(b"x")
        os.utime(export_dir / name, (old, old))
    (export_dir / ".tmp-2-new.csv").write_bytes(b"x")  # a build under way
    result = exports_cleanup()
    assert result["temp_files_removed"] == 1 and result["orphan_files_removed"] == 1
    assert [p.name for p in export_dir.iterdir()] == [".tmp-2-new.csv"]


# --- the build: idempotent, failures -------------------------------------------------------


def test_build_is_idempotent(data, staff_a, export_dir):
    export = export_request(
        actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
    )
    first = export_build(export_id=export.pk)
    assert first["status"] == "done"
    again = export_build(export_id=export.pk)
    assert again == {"export": export.pk, "claimed": False, "status": "done"}
    assert len(list(export_dir.iterdir())) == 1


def test_a_stale_running_export_is_claimed_again(data, staff_a):
    export = export_request(
        actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
    )
    # Its worker beats (issue 26 item 7: a heartbeat, not only the age of
    # started_at, tells a live build from a dead one).
    Export.objects.filter(pk=export.pk).update(
        status="running",
        started_at=timezone.now() - timedelta(minutes=5),
        heartbeat_at=timezone.now() - timedelta(seconds=5),
    )
    assert export_build(export_id=export.pk)["claimed"] is False  # still running
    Export.objects.filter(pk=export.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=3)
    )
    assert export_build(export_id=export.pk)["status"] == "done"


def test_build_fails_with_a_japanese_error_when_the_membership_is_gone(data, staff_a):
    export = export_request(
        actor=staff_a, kind="consultations", fiscal_year=FY, format="csv"
    )
    Membership.objects.filter(pk=staff_a.membership.pk).update(is_active=False)
    export = build(export)
    assert export.status == "failed"
    assert "所属" in export.error
    assert not export.file_path


def test_superuser_needs_an_organisation(superuser_actor, api):
    response = api(superuser_actor).post(
        "/api/v1/exports/",
        {"kind": "consultations", "fiscal_year": FY, "format": "csv"},
        format="json",
    )
    assert response.status_code == 400


def test_national_hub_coordinator_sees_consented_rows_only(data, network):
    """Rule 3 through the export: JPO sees A's cases only with network consent."""
    from tests.crm.factories import ConsentFactory

    jpo = make_actor("jpo", "coordinator")
    ConsentFactory(company=data["first"].company, organisation=network[ORG_A])
    export = request_and_build(jpo, kind="consultations", format="csv")
    ids = [int(r[0]) for r in read_csv(export)[1:]]
    assert ids == [data["first"].pk]
    assert Organisation.objects.get(code="jpo").kind == "jpo"


# --- on a real Celery worker ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_export_built_by_a_real_celery_worker(network, monkeypatch, export_dir):
    from crm.tasks import export_build_task
    from tests.crm.test_reminders_worker import start_worker, stop, wait_for

    staff = make_actor(ORG_A, "window_staff", "worker-export-staff")
    case = CaseFactory(
        company=CompanyFactory(name="@株式会社ワーカー"), created_by=staff.user
    )
    consult(case, jst(2025, 5, 1, 10, 0), topics=["patent"], author=staff.user)
    export = export_request(
        actor=staff, kind="consultations", fiscal_year=FY, format="xlsx"
    )
    monkeypatch.setenv("CRM_EXPORT_DIR", str(export_dir))
    queue = f"exports-test-{os.getpid()}"
    worker = start_worker(queue, concurrency=1)
    try:
        # Delivered twice (as acks_late may): built once.
        for _ in range(2):
            export_build_task.apply_async(kwargs={"export_id": export.pk}, queue=queue)
        assert wait_for(
            lambda: Export.objects.get(pk=export.pk).status in ("done", "failed"),
            timeout=60,
        )
    finally:
        stop(worker)
    export.refresh_from_db()
    assert export.status == "done", export.error
    assert export.row_count == 1 and export.progress == 100
    sheet = openpyxl.load_workbook(file_of(export)).active
    assert sheet["D2"].value == "'@株式会社ワーカー"
    assert len(list(export_dir.iterdir())) == 1


# --- progress ------------------------------------------------------------------------------


def test_progress_is_written_while_the_file_is_built(staff_a, monkeypatch):
    """A provider with a known total: the row's progress moves 0 → 99 → 100."""
    from crm.exports import build
    from crm.exports.kinds import ExportTable, export_kind_register, export_kinds
    from crm.exports.writers import INT, Column

    seen = []

    def provider(*, actor, fiscal_year, params):
        def rows():
            for i in range(10):
                seen.append(Export.objects.values_list("progress", flat=True).get())
                yield (f"社{i}", i)

        return ExportTable(
            columns=[Column("企業等"), Column("番号", INT)],
            rows=rows(),
            total=10,
        )

    original = export_kinds()["enrolments"]
    monkeypatch.setattr(build, "PROGRESS_EVERY", 2)
    export_kind_register("enrolments", provider)
    try:
        export = request_and_build(staff_a, kind="enrolments", format="csv")
    finally:
        export_kind_register("enrolments", original.provider, check=original.check)
    assert export.status == "done" and export.progress == 100
    assert seen == [0, 0, 20, 20, 40, 40, 60, 60, 80, 80]
    assert read_csv(export)[-1] == ["社9", "9"]


def test_progress_without_a_total_follows_the_fiscal_year():
    from datetime import date

    from crm.exports.kinds import fiscal_year_position

    position = fiscal_year_position(2025, 0)
    assert position((date(2025, 4, 1),)) == 0
    assert 0.49 < position((date(2025, 9, 30),)) < 0.51
    assert position((jst(2026, 3, 31, 23, 30),)) > 0.99
