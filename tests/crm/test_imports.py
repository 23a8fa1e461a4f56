"""Bringing history in: dry run, commit, undo of a 相談記録 file (issue 22).

Files are made by the tests (tests/crm/import_files.py): an xlsx and a cp932
CSV with 和暦, 西暦 and Excel-serial dates, good rows and bad ones. The
dry run's report is checked exactly; the commit runs in-process (the body of
`crm.import_commit`) and, once, on a real Celery worker; undo must give back
exactly the counts and statistics facts of before.
"""

from __future__ import annotations

import os
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from crm.models import (
    AuditEvent,
    Case,
    Company,
    Consultation,
    ConsultationFact,
    FollowUp,
    Import,
    ImportMapping,
)
from crm.services import import_files, import_rows
from crm.services.consultations import consultation_create
from crm.services.corrections import consultation_update
from crm.services.follow_ups import follow_up_complete
from crm.services.imports import import_commit_request, import_undo, import_upload
from crm.statistics.consultations import consultation_statistics
from support_network.calendar import JST
from support_network.errors import Conflict, PermissionDenied, ValidationFailed
from support_network.models import Prefecture
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory
from tests.crm.import_files import (
    TOYOTA,
    csv_bytes,
    history_rows,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db

EXPECTED_ERRORS = [
    {
        "line": 6,
        "field": "occurred_on",
        "message": "平成は2019年4月30日までです（2019年5月1日は令和元年5月1日です）。",
    },
    {
        "line": 7,
        "field": "channel",
        "message": "読めない値があります: 伝書鳩",
    },
    {
        "line": 7,
        "field": "duration_minutes",
        "message": "所要時間として読めません（例: 90、90分、1時間30分、1.5時間）。",
    },
    {"line": 7, "field": "topics", "message": "読めない値があります: 宇宙"},
    {
        "line": 8,
        "field": "corporate_number",
        "message": "法人番号のチェックデジットが正しくありません。番号を確認してください。",
    },
    {
        "line": 10,
        "field": "occurred_on",
        "message": "相談日時に未来の日付は入力できません。",
    },
    {
        "line": 11,
        "field": "prefecture",
        "message": "新しい企業等の登録には都道府県が必要です。",
    },
]


@pytest.fixture
def coordinator(network):
    return make_actor(ORG_A, "coordinator", "import-coordinator")


@pytest.fixture
def colleague(network):
    return make_actor(ORG_A, "window_staff", "tanaka")


@pytest.fixture
def before(coordinator):
    """Two companies with a consultation each, logged through the service."""
    abc = CompanyFactory(name="株式会社エービーシー", corporate_number=None)
    toyota = CompanyFactory(
        name="トヨタ自動車株式会社",
        corporate_number=TOYOTA,
        prefecture=Prefecture.objects.get(code="23"),
    )
    first_abc = consultation_create(
        actor=coordinator,
        company=abc,
        occurred_at=datetime(2024, 5, 1, 10, 0, tzinfo=JST),
        channel="visit",
        duration_minutes=60,
        topics=["patent"],
        summary="特許の相談",
    )
    toyota_consultation = consultation_create(
        actor=coordinator,
        company=toyota,
        occurred_at=datetime(2024, 6, 10, 9, 0, tzinfo=JST),
        channel="email",
        duration_minutes=30,
        topics=["trademark"],
        summary="商標の出願について相談",
    )
    return {
        "abc": abc,
        "toyota": toyota,
        "first_abc": first_abc,
        "toyota_consultation": toyota_consultation,
    }


def upload(actor, content, name="相談記録.xlsx", mapping=None, capture=None):
    with capture(execute=True):
        imp = import_upload(
            actor=actor, file_name=name, content=content, mapping=mapping
        )
    imp.refresh_from_db()
    return imp


def commit(actor, imp, capture):
    with capture(execute=True):
        import_commit_request(actor=actor, imp=imp)
    imp.refresh_from_db()
    return imp


def snapshot() -> dict:
    """Everything statistics and counts read: rows per table, facts, 初回 marks."""
    fact_fields = [
        f.attname for f in ConsultationFact._meta.concrete_fields if f.name != "id"
    ]
    return {
        "companies": Company.objects.count(),
        "cases": Case.objects.count(),
        "consultations": Consultation.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "facts": sorted(ConsultationFact.objects.values_list(*fact_fields)),
        "firsts": sorted(
            Consultation.objects.filter(is_company_first=True).values_list(
                "pk", flat=True
            )
        ),
    }


def statistics(actor, fiscal_year):
    return consultation_statistics(
        actor=actor, fiscal_year=fiscal_year, group_by=["topic"]
    )


# --- dry run ------------------------------------------------------------------


def test_dry_run_report_of_an_xlsx_is_exact_and_writes_nothing(
    coordinator, colleague, before, django_capture_on_commit_callbacks
):
    was = snapshot()
    imp = upload(
        coordinator,
        xlsx_bytes(history_rows("tanaka")),
        capture=django_capture_on_commit_callbacks,
    )
    assert imp.status == "ready"
    assert imp.file_format == "xlsx"
    assert (imp.rows, imp.valid_rows) == (10, 5)
    assert imp.errors == EXPECTED_ERRORS
    assert imp.error_count == 7
    assert (imp.companies_matched, imp.companies_new) == (2, 2)
    assert imp.companies == [
        {
            "name": "株式会社テスト工業",
            "prefecture": "13",
            "corporate_number": None,
            "match": "new",
            "company": None,
            "rows": 2,
        },
        {
            "name": "(株)エービーシー",
            "prefecture": "13",
            "corporate_number": None,
            "match": "name",
            "company": before["abc"].pk,
            "rows": 1,
        },
        {
            "name": "トヨタ自動車",
            "prefecture": "23",
            "corporate_number": TOYOTA,
            "match": "corporate_number",
            "company": before["toyota"].pk,
            "rows": 1,
        },
        {
            "name": "有限会社デルタ",
            "prefecture": "01",
            "corporate_number": None,
            "match": "new",
            "company": None,
            "rows": 1,
        },
    ]
    assert imp.duplicates == [
        {"line": 5, "consultation": before["toyota_consultation"].pk}
    ]
    assert imp.unknown_headers == ["備考"]
    assert imp.mapping["相談日"] == "occurred_on" and imp.mapping["備考"] == ""
    # Nothing but the Import row (and its upload audit) was written.
    assert snapshot() == was
    assert list(
        AuditEvent.objects.filter(object_type="import").values_list("action", flat=True)
    ) == ["import.upload"]


def test_cp932_csv_with_wareki_gives_the_same_report(
    coordinator, colleague, before, django_capture_on_commit_callbacks
):
    rows = history_rows("tanaka")
    rows[3][0] = "2024-06-10 14:00"  # a CSV has no date cells
    content = csv_bytes(rows, encoding="cp932")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really Shift_JIS
    imp = upload(
        coordinator,
        content,
        name="soudan.csv",
        capture=django_capture_on_commit_callbacks,
    )
    assert imp.file_format == "csv"
    assert (imp.rows, imp.valid_rows, imp.errors) == (10, 5, EXPECTED_ERRORS)
    assert (imp.companies_matched, imp.companies_new) == (2, 2)
    assert len(imp.duplicates) == 1


def test_utf8_csv_with_and_without_bom_is_read(
    coordinator, django_capture_on_commit_callbacks
):
    row = [
        "令和元年5月1日",
        "",
        "株式会社ボム",
        "",
        "東京都",
        "来所",
        "特許",
        "",
        "90分",
        "相談",
        "",
        "",
        "",
        "",
    ]
    for encoding in ("utf-8", "utf-8-sig"):
        imp = upload(
            coordinator,
            csv_bytes([row], encoding=encoding),
            name="a.csv",
            capture=django_capture_on_commit_callbacks,
        )
        assert (imp.rows, imp.valid_rows, imp.errors) == (1, 1, [])
        assert imp.mapping["相談日"] == "occurred_on"


def test_a_missing_column_is_reported_and_the_mapping_is_remembered(
    coordinator, django_capture_on_commit_callbacks
):
    header = ["整理日", "企業名", "都道府県", "相談方法", "分野", "時間", "相談内容"]
    row = ["2024/4/1", "株式会社マップ", "東京都", "電話", "特許", "60", "相談"]
    imp = upload(
        coordinator,
        xlsx_bytes([row], header=header),
        capture=django_capture_on_commit_callbacks,
    )
    assert imp.status == "ready" and imp.valid_rows == 0
    assert imp.errors == [
        {
            "line": 1,
            "field": "occurred_on",
            "message": "「相談日」の列がありません。列の対応を指定してください。",
        }
    ]
    assert imp.unknown_headers == ["整理日"]
    # Mapped by hand, then remembered for the next file of the organisation.
    imp = upload(
        coordinator,
        xlsx_bytes([row], header=header),
        mapping={"整理日": "occurred_on"},
        capture=django_capture_on_commit_callbacks,
    )
    assert (imp.valid_rows, imp.errors) == (1, [])
    assert ImportMapping.objects.get(organisation=coordinator.organisation).mapping == {
        "整理日": "occurred_on"
    }
    imp = upload(
        coordinator,
        xlsx_bytes([row], header=header),
        capture=django_capture_on_commit_callbacks,
    )
    assert (imp.valid_rows, imp.errors, imp.unknown_headers) == (1, [], [])


def test_limits_give_clear_errors(
    coordinator, monkeypatch, django_capture_on_commit_callbacks
):
    row = [
        "2024/4/1",
        "",
        "株式会社リミット",
        "",
        "東京都",
        "来所",
        "特許",
        "",
        "60",
        "相談",
        "",
        "",
        "",
        "",
    ]
    monkeypatch.setattr(import_files, "IMPORT_MAX_ROWS", 2)
    imp = upload(
        coordinator, xlsx_bytes([row] * 3), capture=django_capture_on_commit_callbacks
    )
    assert imp.status == "failed"
    assert (
        imp.failure
        == "行数が多すぎます（上限 2 行）。ファイルを分割して取り込んでください。"
    )
    assert Company.objects.filter(name="株式会社リミット").count() == 0
    monkeypatch.setattr(import_files, "IMPORT_MAX_BYTES", 100)
    with pytest.raises(ValidationFailed) as exc:
        import_upload(actor=coordinator, file_name="a.xlsx", content=xlsx_bytes([row]))
    assert exc.value.field == "file"
    assert exc.value.detail == (
        "ファイルが大きすぎます（上限 0 MB）。分割して取り込んでください。"
    )
    with pytest.raises(ValidationFailed) as exc:
        import_upload(
            actor=coordinator,
            file_name="old.xls",
            content=b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50,
        )
    assert "古いExcel形式" in exc.value.detail
    assert Import.objects.count() == 1


# --- commit and undo ----------------------------------------------------------------


def test_commit_writes_through_the_services_and_undo_restores_everything(
    coordinator, colleague, before, django_capture_on_commit_callbacks
):
    was = snapshot()
    was_statistics = {fy: statistics(coordinator, fy) for fy in (2019, 2024)}
    imp = upload(
        coordinator,
        xlsx_bytes(history_rows("tanaka")),
        capture=django_capture_on_commit_callbacks,
    )
    imp = commit(coordinator, imp, django_capture_on_commit_callbacks)
    assert imp.status == "committed" and imp.progress == 100
    assert imp.created == {
        "companies": 2,
        "cases": 4,
        "consultations": 5,
        "follow_ups": 1,
    }
    mine = Consultation.objects.filter(import_id=imp.pk)
    assert sorted(mine.values_list("source_line", flat=True)) == [2, 3, 4, 5, 9]
    # Lines 2 and 3 are one new company and one case.
    testco = Company.objects.get(import_id=imp.pk, source_line=2)
    assert testco.name == "株式会社テスト工業" and testco.prefecture_id == "13"
    assert mine.filter(company=testco).values("case").distinct().count() == 1
    line2 = mine.get(source_line=2)
    assert line2.occurred_at == datetime(2024, 4, 1, 10, 30, tzinfo=JST)
    assert line2.duration_minutes == 90 and line2.channel == "visit"
    assert sorted(line2.topics.values_list("topic", flat=True)) == [
        "patent",
        "trademark",
    ]
    assert line2.advice == "先行調査を勧めた"
    follow_up = FollowUp.objects.get(import_id=imp.pk)
    assert (follow_up.due_on, follow_up.source_line) == (date(2024, 5, 1), 2)
    # Line 9 is written by the colleague named in 担当者.
    assert mine.get(source_line=9).author == colleague.user
    assert mine.get(source_line=9).occurred_on == date(2024, 4, 1)
    # The back-dated 平成 consultation is the company's new 初回.
    abc_first = mine.get(source_line=4)
    assert abc_first.company_id == before["abc"].pk
    assert abc_first.occurred_on == date(2019, 4, 30) and abc_first.is_company_first
    before["first_abc"].refresh_from_db()
    assert not before["first_abc"].is_company_first
    # Statistics follow: FY2019 gains the ABC consultation.
    assert statistics(coordinator, 2019) != was_statistics[2019]
    assert (
        AuditEvent.objects.filter(
            action="consultation.create", object_id__in=[str(c.pk) for c in mine]
        ).count()
        == 5
    )
    # Undo: exactly as before.
    imp = import_undo(actor=coordinator, imp=imp)
    assert imp.status == "undone"
    assert snapshot() == was
    assert {fy: statistics(coordinator, fy) for fy in (2019, 2024)} == was_statistics
    before["first_abc"].refresh_from_db()
    assert before["first_abc"].is_company_first
    with pytest.raises(Conflict) as exc:
        import_undo(actor=coordinator, imp=imp)
    assert exc.value.code == "import_not_committed"


@pytest.mark.parametrize("change", ["edit", "follow_up", "new_consultation"])
def test_undo_is_refused_once_something_it_created_changed(
    change, coordinator, colleague, before, django_capture_on_commit_callbacks
):
    imp = upload(
        coordinator,
        xlsx_bytes(history_rows("tanaka")),
        capture=django_capture_on_commit_callbacks,
    )
    imp = commit(coordinator, imp, django_capture_on_commit_callbacks)
    line2 = Consultation.objects.get(import_id=imp.pk, source_line=2)
    if change == "edit":
        consultation_update(actor=coordinator, consultation=line2, summary="訂正")
    elif change == "follow_up":
        follow_up_complete(
            actor=coordinator, follow_up=FollowUp.objects.get(import_id=imp.pk)
        )
    else:
        consultation_create(
            actor=coordinator,
            company=line2.company,
            case=line2.case,
            occurred_at=datetime(2024, 7, 1, 10, 0, tzinfo=JST),
            channel="visit",
            duration_minutes=30,
            topics=["patent"],
            summary="続きの相談",
        )
    was = snapshot()
    with pytest.raises(Conflict) as exc:
        import_undo(actor=coordinator, imp=imp)
    assert exc.value.code == "import_changed"
    assert exc.value.status_code == 409
    assert snapshot() == was
    assert Import.objects.get(pk=imp.pk).status == "committed"


def test_commit_twice_is_refused(coordinator, django_capture_on_commit_callbacks):
    row = [
        "2024/4/1",
        "",
        "株式会社ニド",
        "",
        "東京都",
        "来所",
        "特許",
        "",
        "60",
        "相談",
        "",
        "",
        "",
        "",
    ]
    imp = upload(
        coordinator, xlsx_bytes([row]), capture=django_capture_on_commit_callbacks
    )
    commit(coordinator, imp, django_capture_on_commit_callbacks)
    with pytest.raises(Conflict) as exc:
        import_commit_request(actor=coordinator, imp=imp)
    assert exc.value.code == "import_not_ready"
    assert Consultation.objects.filter(import_id=imp.pk).count() == 1


# --- who may import ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["window_staff", "expert"])
def test_other_roles_may_not_import(role, network):
    actor = make_actor(ORG_A, role, f"import-{role}")
    with pytest.raises(PermissionDenied) as exc:
        import_upload(actor=actor, file_name="a.csv", content=b"a,b\n1,2\n")
    assert exc.value.code == "not_permitted"
    assert Import.objects.count() == 0


@pytest.mark.parametrize("role", ["coordinator", "manager", "org_admin"])
def test_api_upload_report_commit_undo(
    role, network, api, django_capture_on_commit_callbacks
):
    actor = make_actor(ORG_A, role, f"api-{role}")
    row = [
        "令和6年4月1日",
        "",
        "株式会社エーピーアイ",
        "",
        "東京都",
        "来所",
        "特許",
        "",
        "60",
        "相談",
        "",
        "",
        "",
        "",
    ]
    client = api(actor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/imports/",
            {
                "file": SimpleUploadedFile("h.xlsx", xlsx_bytes([row])),
                "kind": "consultations",
            },
            format="multipart",
        )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "validating"
    pk = response.json()["id"]
    body = client.get(f"/api/v1/imports/{pk}/").json()
    assert (body["status"], body["rows"], body["valid_rows"], body["errors"]) == (
        "ready",
        1,
        1,
        [],
    )
    assert (body["companies_matched"], body["companies_new"]) == (0, 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/imports/{pk}/commit/")
    assert response.status_code == 202
    body = client.get(f"/api/v1/imports/{pk}/").json()
    assert body["status"] == "committed"
    assert body["created"] == {
        "companies": 1,
        "cases": 1,
        "consultations": 1,
        "follow_ups": 0,
    }
    response = client.post(f"/api/v1/imports/{pk}/undo/")
    assert response.status_code == 200 and response.json()["status"] == "undone"
    assert not Company.objects.filter(name="株式会社エーピーアイ").exists()


def test_api_refuses_staff_hides_other_organisations_and_reports_bad_files(
    network, api, django_capture_on_commit_callbacks
):
    coordinator = make_actor(ORG_A, "coordinator", "api-vis-coordinator")
    other = make_actor(ORG_B, "coordinator", "api-vis-other")
    staff = make_actor(ORG_A, "window_staff", "api-vis-staff")
    row = [
        "2024/4/1",
        "",
        "株式会社ミエナイ",
        "",
        "東京都",
        "来所",
        "特許",
        "",
        "60",
        "相談",
        "",
        "",
        "",
        "",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        imp = import_upload(
            actor=coordinator, file_name="a.xlsx", content=xlsx_bytes([row])
        )
    for path in ("", "commit/", "undo/"):
        method = "get" if not path else "post"
        response = getattr(api(other), method)(f"/api/v1/imports/{imp.pk}/{path}")
        assert response.status_code == 404
        response = getattr(api(staff), method)(f"/api/v1/imports/{imp.pk}/{path}")
        assert response.status_code == 403
        assert response.json()["code"] == "not_permitted"
    response = api(staff).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("a.xlsx", xlsx_bytes([row]))},
        format="multipart",
    )
    assert response.status_code == 403
    response = api(coordinator).post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" * 4)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "古いExcel形式" in response.json()["file"][0]
    response = api(coordinator).post(
        "/api/v1/imports/",
        {
            "file": SimpleUploadedFile("a.xlsx", xlsx_bytes([row])),
            "mapping": '{"相談日": "birthday"}',
        },
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"mapping": ["取込できない項目名です: birthday"]}
    assert Import.objects.count() == 1
    assert Consultation.objects.filter(import_id__isnull=False).count() == 0


# --- command ----------------------------------------------------------------------


def test_command_dry_run_then_commit(coordinator, colleague, before, tmp_path, capsys):
    path = tmp_path / "相談記録.xlsx"
    path.write_bytes(xlsx_bytes(history_rows("tanaka")))
    call_command(
        "import_consultations", str(path), "--organisation", ORG_A, "--dry-run"
    )
    out = capsys.readouterr().out
    assert "データ行: 10 行、有効な行: 5 行" in out
    assert "6 行目 [occurred_on] 平成は2019年4月30日までです" in out
    assert "何も登録していません" in out
    assert Consultation.objects.filter(import_id__isnull=False).count() == 0
    call_command(
        "import_consultations",
        str(path),
        "--organisation",
        ORG_A,
        "--user",
        "import-coordinator",
    )
    out = capsys.readouterr().out
    assert "相談記録 5 件" in out
    assert Consultation.objects.filter(import_id__isnull=False).count() == 5


# --- on a real Celery worker ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_commit_on_a_real_celery_worker(network, monkeypatch):
    from crm.services.imports import import_validate
    from crm.tasks import import_commit_task
    from tests.crm.test_reminders_worker import start_worker, stop, wait_for

    coordinator = make_actor(ORG_A, "coordinator", "worker-import-coordinator")
    rows = [
        [
            f"令和6年4月{day}日",
            "",
            f"株式会社ワーカー{day}",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            f"相談{day}",
            "",
            "",
            "",
            "",
        ]
        for day in range(1, 21)
    ]
    imp = import_upload(
        actor=coordinator, file_name="w.xlsx", content=xlsx_bytes(rows), queue=False
    )
    import_validate(import_id=imp.pk)
    import_commit_request(actor=coordinator, imp=imp, queue=False)
    queue = f"imports-test-{os.getpid()}"
    worker = start_worker(queue, concurrency=1)
    try:
        # Delivered twice (as acks_late may): written once.
        for _ in range(2):
            import_commit_task.apply_async(kwargs={"import_id": imp.pk}, queue=queue)
        assert wait_for(
            lambda: Import.objects.get(pk=imp.pk).status in ("committed", "failed"),
            timeout=60,
        )
    finally:
        stop(worker)
    imp.refresh_from_db()
    assert imp.status == "committed", imp.failure
    assert imp.created == {
        "companies": 20,
        "cases": 20,
        "consultations": 20,
        "follow_ups": 0,
    }
    assert Consultation.objects.filter(import_id=imp.pk).count() == 20
    assert ConsultationFact.objects.filter(consultation__import_id=imp.pk).count() == 20


# --- a lost worker, a changed member ----------------------------------------------


def test_a_commit_taken_over_after_a_lost_worker_resumes_after_the_last_batch(
    coordinator, monkeypatch
):
    from datetime import timedelta

    from crm.services import import_commit as imports
    from crm.services.import_commit import import_commit
    from crm.services.imports import import_validate

    rows = [
        [
            f"2024/4/{day}",
            "",
            f"株式会社リジューム{day}",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            f"相談{day}",
            "",
            "",
            "",
            "",
        ]
        for day in range(1, 6)
    ]
    imp = import_upload(
        actor=coordinator, file_name="r.xlsx", content=xlsx_bytes(rows), queue=False
    )
    import_validate(import_id=imp.pk)
    import_commit_request(actor=coordinator, imp=imp, queue=False)
    monkeypatch.setattr(import_rows, "CHUNK_ROWS", 2)
    batch = imports._Writer.batch
    calls = []

    class WorkerLost(Exception):
        pass

    def dies_after_one_batch(self, *args, **kwargs):
        if calls:
            raise WorkerLost
        calls.append(1)
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(imports._Writer, "batch", dies_after_one_batch)
    with pytest.raises(WorkerLost):
        import_commit(import_id=imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.processed_rows, imp.progress) == ("committing", 2, 40)
    # A second delivery while the first worker still beats takes nothing.
    assert import_commit(import_id=imp.pk) == {"import": imp.pk, "claimed": False}
    monkeypatch.setattr(imports._Writer, "batch", batch)
    Import.objects.filter(pk=imp.pk).update(
        heartbeat_at=imp.heartbeat_at - timedelta(minutes=3)
    )
    assert import_commit(import_id=imp.pk)["claimed"] is True
    imp.refresh_from_db()
    assert imp.status == "committed"
    assert imp.created == {
        "companies": 5,
        "cases": 5,
        "consultations": 5,
        "follow_ups": 0,
    }
    lines = Consultation.objects.filter(import_id=imp.pk).values_list(
        "source_line", flat=True
    )
    assert sorted(lines) == [2, 3, 4, 5, 6]


def test_a_member_deactivated_after_the_dry_run_is_reported_at_commit(
    coordinator, colleague, django_capture_on_commit_callbacks
):
    rows = [
        [
            "2024/4/1",
            "",
            "株式会社メンバー",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            "相談",
            "",
            "",
            "tanaka",
            "",
        ],
        [
            "2024/4/2",
            "",
            "株式会社メンバー",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            "相談2",
            "",
            "",
            "",
            "",
        ],
    ]
    imp = upload(
        coordinator, xlsx_bytes(rows), capture=django_capture_on_commit_callbacks
    )
    assert (imp.valid_rows, imp.errors) == (2, [])
    colleague.membership.is_active = False
    colleague.membership.save()
    imp = commit(coordinator, imp, django_capture_on_commit_callbacks)
    assert imp.status == "committed"
    assert imp.errors == [
        {
            "line": 2,
            "field": "staff",
            "message": "担当者「tanaka」はこの組織の有効なユーザー名ではありません。",
        }
    ]
    assert imp.error_count == 1
    assert imp.created["consultations"] == 1
    assert Consultation.objects.get(import_id=imp.pk).source_line == 3


def test_a_formula_is_read_for_its_value_only(
    coordinator, django_capture_on_commit_callbacks
):
    """openpyxl writes no cached result: the formula is neither run nor read as text."""
    rows = [
        [
            "2024/4/1",
            "",
            "株式会社スウシキ",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "=30*2",
            "相談",
            "",
            "",
            "",
            "",
        ],
    ]
    imp = upload(
        coordinator, xlsx_bytes(rows), capture=django_capture_on_commit_callbacks
    )
    assert imp.errors == [
        {"line": 2, "field": "duration_minutes", "message": "所要時間が空です。"}
    ]


def test_a_commit_that_failed_half_way_can_be_undone(coordinator, monkeypatch):
    from crm.services import import_commit as commit_module
    from crm.services.import_commit import import_commit
    from crm.services.imports import import_validate

    was = snapshot()
    rows = [
        [
            f"2024/4/{day}",
            "",
            f"株式会社ハンパ{day}",
            "",
            "東京都",
            "来所",
            "特許",
            "",
            "60",
            f"相談{day}",
            "",
            "",
            "",
            "",
        ]
        for day in range(1, 5)
    ]
    imp = import_upload(
        actor=coordinator, file_name="f.xlsx", content=xlsx_bytes(rows), queue=False
    )
    import_validate(import_id=imp.pk)
    import_commit_request(actor=coordinator, imp=imp, queue=False)
    monkeypatch.setattr(import_rows, "CHUNK_ROWS", 2)
    batch = commit_module._Writer.batch
    calls = []

    def refused_at_the_second_batch(self, *args, **kwargs):
        if calls:
            raise ValidationFailed("依頼者が組織を離れました。")
        calls.append(1)
        return batch(self, *args, **kwargs)

    monkeypatch.setattr(commit_module._Writer, "batch", refused_at_the_second_batch)
    import_commit(import_id=imp.pk)
    imp.refresh_from_db()
    assert (imp.status, imp.failure) == ("failed", "依頼者が組織を離れました。")
    assert Consultation.objects.filter(import_id=imp.pk).count() == 2
    imp = import_undo(actor=coordinator, imp=imp)
    assert imp.status == "undone"
    assert snapshot() == was
