"""Import of companies from 法人番号公表サイト files (service, command, admin).

The files are built here in the NTA's 30-column layout (reference/
houjin_bangou.md §4): no header, numbers unquoted, text quoted, CRLF.
"""

from __future__ import annotations

import io
import zipfile
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.admin import companies as admin_nta
from crm.models import AuditEvent, Company
from crm.rules.corporate_number import corporate_number_check_digit
from crm.services.companies import company_create
from crm.services.nta_import import company_import_nta, company_kind_for_nta
from support_network.errors import PermissionDenied, ValidationFailed
from tests.crm.factories import CompanyFactory

TOYOTA = "1180301018771"  # reference/houjin_bangou.md §3
NINTENDO = "1130001011420"
SONY = "5010401067252"

# Columns that the NTA file quotes (text); the others are codes and dates.
_TEXT_COLUMNS = {6, 9, 10, 11, 16, 21, 24, 25, 26, 27, 28}


def number(base12: str) -> str:
    """Return a well-formed 法人番号 for a 12-digit base number."""
    return f"{corporate_number_check_digit(base12)}{base12}"


def nta_row(
    seq: int,
    corporate_number: str,
    name: str,
    *,
    process: str = "01",
    kind: str = "301",
    prefecture_code: str = "13",
    prefecture_name: str = "東京都",
    city: str = "千代田区",
    furigana: str = "",
    close_date: str = "",
    close_cause: str = "",
    successor: str = "",
    latest: str = "1",
    address_outside: str = "",
) -> list[str]:
    return [
        str(seq),
        corporate_number,
        process,
        "0",  # correct
        "2025-04-01",  # updateDate
        "2025-03-28",  # changeDate
        name,
        "",  # nameImageId
        kind,
        prefecture_name,
        city,
        "丸の内１丁目１－１" if prefecture_code else "",
        "",  # addressImageId
        prefecture_code,
        "101" if prefecture_code else "",
        "1000005" if prefecture_code else "",
        address_outside,
        "",  # addressOutsideImageId
        close_date,
        close_cause,
        successor,
        "",  # changeCause
        "2015-10-05",  # assignmentDate
        latest,
        "",  # enName
        "",  # enPrefectureName
        "",  # enCityName
        "",  # enAddressOutside
        furigana,
        "0",  # hihyoji
    ]


def nta_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    lines = [
        ",".join(
            f'"{cell}"' if i in _TEXT_COLUMNS and cell else cell
            for i, cell in enumerate(row)
        )
        for row in rows
    ]
    return "".join(line + "\r\n" for line in lines).encode(encoding)


def zipped(payload: bytes, name: str = "13_tokyo_all_20250331.csv") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


def run_import(data: bytes, actor=None, **kwargs):
    return company_import_nta(actor=actor, source=io.BytesIO(data), **kwargs)


# Names that exist only in the Shift_JIS superset cp932 (髙: IBM extension)
# or differ between Shift_JIS decoders (～: the wave-dash pair).
FULL_FILE = [
    nta_row(
        1,
        NINTENDO,
        "任天堂株式会社",
        prefecture_code="26",
        prefecture_name="京都府",
        city="京都市南区",
        furigana="ニンテンドウ",
    ),
    nta_row(2, number("000012050002"), "国税庁", kind="101"),
    nta_row(3, number("010405000001"), "一般社団法人髙橋技術振興会", kind="399"),
    nta_row(4, number("010405000002"), "国立大学法人東京科学大学", kind="399"),
    nta_row(
        5, number("010001000003"), "株式会社ミライ～テック", furigana="ミライテック"
    ),
]


def test_unicode_file_creates_companies_with_nta_name_reading_and_address(
    network, superuser_actor, api, staff_a
):
    result = run_import(nta_csv(FULL_FILE), actor=superuser_actor, filename="a.csv")

    assert (result.rows, result.created, result.updated) == (5, 5, 0)
    assert result.encoding == "utf-8"
    nintendo = Company.objects.get(corporate_number=NINTENDO)
    assert (nintendo.name, nintendo.name_kana, nintendo.prefecture_id) == (
        "任天堂株式会社",
        "ニンテンドウ",
        "26",
    )
    assert (nintendo.city, nintendo.kind, nintendo.registered_by) == (
        "京都市南区",
        "corporation",
        None,
    )
    assert nintendo.name_key == "任天堂"
    kinds = dict(Company.objects.values_list("name", "kind"))
    assert kinds["国税庁"] == "public_body"
    assert kinds["一般社団法人髙橋技術振興会"] == "association"
    assert kinds["国立大学法人東京科学大学"] == "university"
    summary = AuditEvent.objects.get(action="company.import_nta")
    assert summary.actor == superuser_actor.user
    assert (summary.data["filename"], summary.data["created"]) == ("a.csv", 5)
    # Window staff now find the imported company, in any spelling.
    response = api(staff_a, organisation="inpit-window-13").get(
        "/api/v1/companies/", {"q": "ﾆﾝﾃﾝﾄﾞｳ"}
    )
    assert [c["corporate_number"] for c in response.json()["results"]] == [NINTENDO]


@pytest.mark.parametrize(
    ("encoding", "is_zipped", "expected"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8-sig", False, "utf-8"),
        ("cp932", False, "cp932"),
        ("utf-8", True, "utf-8"),
        ("cp932", True, "cp932"),
    ],
)
def test_every_edition_is_detected_and_gives_the_same_companies(
    network, encoding, is_zipped, expected
):
    data = nta_csv(FULL_FILE, encoding=encoding)
    if is_zipped:
        data = zipped(data)

    result = run_import(data)

    assert (result.encoding, result.created) == (expected, 5)
    names = set(Company.objects.values_list("name", flat=True))
    assert "一般社団法人髙橋技術振興会" in names
    # cp932 decodes the wave dash as FULLWIDTH TILDE; the search key is one.
    tech = Company.objects.get(corporate_number=number("010001000003"))
    assert tech.name_key == "ミライ~テック"


def test_the_shift_jis_edition_can_be_named_explicitly(network):
    result = run_import(nta_csv(FULL_FILE, encoding="cp932"), encoding="cp932")

    assert result.created == 5
    assert Company.objects.filter(name="任天堂株式会社").exists()


def test_importing_the_same_file_again_changes_nothing(network):
    data = nta_csv(FULL_FILE)
    run_import(data)
    before = list(Company.objects.order_by("pk").values())

    result = run_import(data)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
    assert list(Company.objects.order_by("pk").values()) == before
    assert not AuditEvent.objects.filter(action="company.update").exists()


def test_diff_updates_name_reading_and_address_but_keeps_the_crm_data(network, staff_a):
    company = company_create(
        actor=staff_a,
        corporate_number=TOYOTA,
        name="（株）トヨタ",
        kind="investor",
        prefecture="23",
        city="豊田市",
        industry="E",
        capital_yen=635_400_000_000,
        employees=70_000,
    )
    size_class = company.size_class
    diff = [
        nta_row(
            1,
            TOYOTA,
            "トヨタ自動車株式会社",
            process="12",
            prefecture_code="14",
            prefecture_name="神奈川県",
            city="横浜市西区",
            furigana="トヨタジドウシャ",
        )
    ]

    result = run_import(nta_csv(diff))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    company.refresh_from_db()
    assert (company.name, company.name_kana) == (
        "トヨタ自動車株式会社",
        "トヨタジドウシャ",
    )
    assert (company.prefecture_id, company.city) == ("14", "横浜市西区")
    assert company.name_key == "トヨタ自動車"
    assert (company.kind, company.industry, company.capital_yen) == (
        "investor",
        "E",
        635_400_000_000,
    )
    assert (company.employees, company.size_class) == (70_000, size_class)
    assert company.registered_by.code == "inpit-window-13"
    event = AuditEvent.objects.get(action="company.update", object_id=str(company.pk))
    assert event.data == {
        "fields": ["city", "name", "name_kana", "prefecture"],
        "source": "nta",
    }


def test_an_empty_furigana_keeps_the_reading_staff_entered(network, staff_a):
    company = company_create(
        actor=staff_a,
        corporate_number=SONY,
        name="ソニーグループ株式会社",
        name_kana="ソニーグループ",
        kind="corporation",
        prefecture="13",
        city="港区",
    )

    run_import(nta_csv([nta_row(1, SONY, "ソニーグループ株式会社", city="港区")]))

    company.refresh_from_db()
    assert company.name_kana == "ソニーグループ"


def test_only_the_latest_record_of_an_entity_is_applied(network):
    cn = number("010001000010")
    diff = [
        nta_row(1, cn, "株式会社旧名", latest="0"),
        nta_row(2, cn, "株式会社中間名", latest="1"),
        nta_row(3, cn, "株式会社さらに古い名", latest="0"),
    ]

    result = run_import(nta_csv(diff))

    assert (result.created, result.superseded) == (1, 2)
    assert Company.objects.get(corporate_number=cn).name == "株式会社中間名"


def test_later_rows_win_across_batches(network):
    cn = number("010001000011")
    other = number("010001000012")
    rows = [
        nta_row(1, cn, "株式会社一番目"),
        nta_row(2, other, "株式会社ほか"),
        nta_row(3, cn, "株式会社二番目", process="11"),
        nta_row(
            4,
            cn,
            "株式会社三番目",
            process="11",
            prefecture_code="27",
            prefecture_name="大阪府",
            city="大阪市北区",
        ),
    ]

    result = run_import(nta_csv(rows), batch_size=1)

    company = Company.objects.get(corporate_number=cn)
    assert (company.name, company.prefecture_id) == ("株式会社三番目", "27")
    assert (result.created, result.updated) == (2, 2)
    assert Company.objects.count() == 2


def test_closed_merged_deleted_and_foreign_entities_are_not_created(network):
    rows = [
        nta_row(
            1,
            number("010001000020"),
            "株式会社清算済",
            process="21",
            close_date="2024-12-01",
            close_cause="01",
        ),
        nta_row(
            2,
            number("010001000021"),
            "株式会社吸収済",
            process="71",
            close_date="2024-12-01",
            close_cause="11",
            successor=NINTENDO,
        ),
        nta_row(3, number("010001000022"), "株式会社誤指定", process="99"),
        nta_row(
            4,
            number("070001000023"),
            "Foreign Holdings Inc.",
            kind="401",
            prefecture_code="",
            prefecture_name="",
            city="",
            address_outside="アメリカ合衆国",
        ),
        nta_row(5, number("010001000024"), "株式会社存続"),
    ]

    result = run_import(nta_csv(rows))

    assert (result.skipped_closed, result.skipped_abroad, result.created) == (3, 1, 1)
    assert list(Company.objects.values_list("name", flat=True)) == ["株式会社存続"]


def test_a_merger_points_the_absorbed_company_to_its_successor(network, api, staff_a):
    absorbed = CompanyFactory(
        corporate_number=number("010001000030"), name="吸収株式会社"
    )
    successor = CompanyFactory(
        corporate_number=number("010001000031"), name="存続株式会社"
    )
    diff = [
        nta_row(
            1,
            absorbed.corporate_number,
            "吸収株式会社",
            process="71",
            close_date="2025-03-31",
            close_cause="11",
            successor=successor.corporate_number,
        ),
    ]

    result = run_import(nta_csv(diff))
    again = run_import(nta_csv(diff))

    absorbed.refresh_from_db()
    assert absorbed.merged_into == successor
    assert (result.merged, again.merged) == (1, 0)
    assert result.closed_existing == [
        {
            "company_id": absorbed.pk,
            "corporate_number": absorbed.corporate_number,
            "name": "吸収株式会社",
            "process": "71",
            "close_date": "2025-03-31",
            "successor": successor.corporate_number,
        }
    ]
    found = api(staff_a, organisation="inpit-window-13").get(
        "/api/v1/companies/", {"q": "吸収"}
    )
    assert found.json()["results"] == []


def test_a_closed_known_company_is_kept_and_listed(network):
    company = CompanyFactory(
        corporate_number=number("010001000040"), name="閉鎖株式会社"
    )

    result = run_import(
        nta_csv(
            [
                nta_row(
                    1,
                    company.corporate_number,
                    "閉鎖株式会社",
                    process="21",
                    close_date="2025-01-31",
                    close_cause="01",
                )
            ]
        )
    )

    assert Company.objects.filter(pk=company.pk, merged_into=None).exists()
    assert result.closed_existing_count == 1
    assert result.closed_existing[0]["company_id"] == company.pk


def test_a_look_alike_without_number_is_listed_as_a_possible_duplicate(network):
    existing = CompanyFactory(name="（株）みらい精工", corporate_number=None)
    cn = number("010001000050")

    result = run_import(nta_csv([nta_row(1, cn, "株式会社みらい精工")]))

    created = Company.objects.get(corporate_number=cn)
    assert result.possible_duplicates == [
        {
            "company_id": created.pk,
            "corporate_number": cn,
            "name": "株式会社みらい精工",
            "existing_id": existing.pk,
            "existing_name": "（株）みらい精工",
        }
    ]
    existing.refresh_from_db()
    assert existing.corporate_number is None


def test_bad_lines_are_rejected_with_their_reason_and_good_ones_imported(network):
    good = nta_row(1, number("010001000060"), "株式会社正常")
    bad_digit = nta_row(2, "2180301018771", "株式会社誤番号")
    short = nta_row(3, number("010001000061"), "株式会社短い")[:27]
    bad_prefecture = nta_row(
        4, number("010001000062"), "株式会社県外", prefecture_code="48"
    )

    result = run_import(nta_csv([good, bad_digit, short, bad_prefecture]))

    assert result.created == 1
    assert result.rejected_count == 3
    assert result.rejected == [
        {
            "line": 2,
            "reason": "法人番号のチェックデジットが正しくありません（2180301018771）。",
        },
        {
            "line": 3,
            "reason": "列の数が 27 です（30 列のはずです）。法人番号公表サイトの "
            "CSV 形式（2018年4月以降）のファイルを指定してください。",
        },
        {"line": 4, "reason": "都道府県コードが正しくありません（48）。"},
    ]
    assert list(Company.objects.values_list("name", flat=True)) == ["株式会社正常"]
    event = AuditEvent.objects.get(action="company.import_nta")
    assert event.data["rejected_count"] == 3


def test_a_file_without_one_good_line_is_refused(network):
    with pytest.raises(ValidationFailed) as caught:
        run_import(nta_csv([nta_row(1, "2180301018771", "株式会社誤番号")]))

    assert "取り込める行が1行もありません" in caught.value.detail
    assert not Company.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("data", "encoding", "message_part"),
    [
        (b"", "auto", "ファイルが空です"),
        (b"\r\n\r\n", "auto", "ファイルが空です"),
        (zipped(b"x", name="readme.txt"), "auto", "CSV ファイルが1つだけ"),
        (b"PK\x03\x04 not really a zip", "auto", "ZIP ファイルが壊れて"),
        (nta_csv(FULL_FILE, encoding="cp932"), "utf-8", "UTF-8 として読めない"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "auto", "列の数"),
        ("一連番号,法人番号,処理区分\r\n".encode(), "auto", "データ行がありません"),
    ],
    ids=[
        "empty",
        "blank",
        "zip-without-csv",
        "broken-zip",
        "wrong-encoding",
        "pdf",
        "header-only",
    ],
)
def test_unreadable_files_are_refused_in_japanese(
    network, data, encoding, message_part
):
    with pytest.raises(ValidationFailed) as caught:
        run_import(data, encoding=encoding)

    assert message_part in caught.value.detail
    assert not Company.objects.exists()


def test_max_rows_refuses_a_bigger_file_before_writing(network):
    with pytest.raises(ValidationFailed, match="行数が多すぎます"):
        run_import(nta_csv(FULL_FILE), max_rows=4)
    result = run_import(nta_csv(FULL_FILE), max_rows=5)

    assert result.created == 5


def test_a_header_row_someone_added_is_skipped(network):
    header = "一連番号,法人番号,処理区分" + ",x" * 27 + "\r\n"
    data = header.encode() + nta_csv([nta_row(1, NINTENDO, "任天堂株式会社")])

    result = run_import(data)

    assert (result.rows, result.created) == (1, 1)


def test_only_superusers_may_import(network, staff_a):
    with pytest.raises(PermissionDenied):
        run_import(nta_csv(FULL_FILE), actor=staff_a)

    assert not Company.objects.exists()


def test_a_dry_run_counts_but_writes_nothing(network):
    CompanyFactory(corporate_number=NINTENDO, name="任天堂")

    result = run_import(nta_csv(FULL_FILE), dry_run=True)

    assert (result.dry_run, result.created, result.updated) == (True, 4, 1)
    assert Company.objects.count() == 1
    assert Company.objects.get().name == "任天堂"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("code", "name", "kind"),
    [
        ("301", "株式会社A", "corporation"),
        ("305", "合同会社B", "corporation"),
        ("401", "エービーシー・インク", "corporation"),
        ("201", "横浜市", "public_body"),
        ("399", "国立研究開発法人産業技術総合研究所", "research_institute"),
        ("399", "独立行政法人工業所有権情報・研修館", "public_body"),
        ("399", "公益財団法人C", "association"),
        ("399", "D事業協同組合", "association"),
        ("399", "学校法人E学園", "other"),
        ("399", "医療法人F会", "other"),
        ("499", "G", "other"),
    ],
)
def test_nta_kinds_map_to_crm_kinds(code, name, kind):
    assert company_kind_for_nta(code, name) == kind


# --- manage.py import_nta_companies ---------------------------------------------


def test_command_imports_files_in_order_and_prints_a_summary(network, tmp_path):
    full = tmp_path / "13_tokyo_all_20250331.zip"
    full.write_bytes(zipped(nta_csv(FULL_FILE, encoding="cp932")))
    diff = tmp_path / "diff_20250401.csv"
    diff.write_bytes(
        nta_csv(
            [
                nta_row(
                    1,
                    NINTENDO,
                    "任天堂ホールディングス株式会社",
                    process="11",
                    prefecture_code="26",
                    prefecture_name="京都府",
                    city="京都市南区",
                    furigana="ニンテンドウ",
                )
            ]
        )
    )
    out = StringIO()

    call_command(
        "import_nta_companies", str(full), str(diff), stdout=out, stderr=StringIO()
    )

    text = out.getvalue()
    assert "文字コード: Shift_JIS (cp932)" in text
    assert "新規登録: 5 件" in text
    assert "更新: 1 件" in text
    assert Company.objects.get(corporate_number=NINTENDO).name == (
        "任天堂ホールディングス株式会社"
    )
    assert AuditEvent.objects.filter(action="company.import_nta").count() == 2


def test_command_dry_run_writes_nothing(network, tmp_path):
    path = tmp_path / "all.csv"
    path.write_bytes(nta_csv(FULL_FILE))
    out = StringIO()

    call_command("import_nta_companies", str(path), "--dry-run", stdout=out)

    assert "確認のみ" in out.getvalue()
    assert "新規登録予定: 5 件" in out.getvalue()
    assert not Company.objects.exists()


def test_command_refuses_a_bad_file_with_the_line(network, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(nta_csv([nta_row(1, "2180301018771", "株式会社誤番号")]))

    with pytest.raises(CommandError, match="取り込める行が1行もありません"):
        call_command("import_nta_companies", str(path), stdout=StringIO())

    assert not Company.objects.exists()


def test_command_reports_rejected_lines_and_imports_the_rest(network, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        nta_csv(
            [
                nta_row(1, NINTENDO, "任天堂株式会社"),
                nta_row(2, "2180301018771", "株式会社誤番号"),
            ]
        )
    )
    out = StringIO()

    call_command("import_nta_companies", str(path), stdout=out)

    assert "取り込まなかった行（誤りのある行）: 1 行" in out.getvalue()
    assert "2 行目: 法人番号のチェックデジットが正しくありません" in out.getvalue()
    assert list(Company.objects.values_list("name", flat=True)) == ["任天堂株式会社"]


def test_command_checks_every_file_exists_before_importing(network, tmp_path):
    path = tmp_path / "all.csv"
    path.write_bytes(nta_csv(FULL_FILE))

    with pytest.raises(CommandError, match="ファイルが見つかりません"):
        call_command(
            "import_nta_companies",
            str(path),
            str(tmp_path / "missing.zip"),
            stdout=StringIO(),
        )

    assert not Company.objects.exists()


def test_command_records_the_named_superuser_and_refuses_others(
    network, tmp_path, superuser_actor, staff_a
):
    path = tmp_path / "all.csv"
    path.write_bytes(nta_csv(FULL_FILE))

    with pytest.raises(CommandError, match="システム管理者だけ"):
        call_command(
            "import_nta_companies",
            str(path),
            "--user",
            staff_a.user.username,
            stdout=StringIO(),
        )
    call_command(
        "import_nta_companies", str(path), "--user", "root-admin", stdout=StringIO()
    )

    event = AuditEvent.objects.get(action="company.import_nta")
    assert event.actor == superuser_actor.user


# --- admin ----------------------------------------------------------------------


def test_admin_company_list_links_to_the_import_page(client, network, superuser_actor):
    client.force_login(superuser_actor.user)

    html = client.get(reverse("admin:crm_company_changelist")).content.decode()

    assert reverse("admin:crm_company_import_nta") in html
    assert "法人番号公表サイトのデータを取り込む" in html


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "temporary-file"])
def test_admin_upload_imports_and_shows_the_result(
    client, network, superuser_actor, settings, on_disk
):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE Django spools the upload to a file.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0 if on_disk else 10 * 1024 * 1024
    client.force_login(superuser_actor.user)
    upload = SimpleUploadedFile(
        "13_tokyo_all_20250331.zip", zipped(nta_csv(FULL_FILE, encoding="cp932"))
    )

    response = client.post(
        reverse("admin:crm_company_import_nta"),
        {"file": upload, "encoding": "auto"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "取り込み結果" in html
    assert '<td id="nta-created">5</td>' in html
    assert "Shift_JIS (cp932)" in html
    assert "5 MB・50,000 行まで" in html
    assert Company.objects.filter(name="任天堂株式会社").exists()


def test_admin_upload_of_a_bad_file_shows_the_lines_and_writes_nothing(
    client, network, superuser_actor
):
    client.force_login(superuser_actor.user)
    data = nta_csv(
        [
            nta_row(1, NINTENDO, "任天堂株式会社"),
            nta_row(2, "2180301018771", "株式会社誤番号"),
        ]
    )

    response = client.post(
        reverse("admin:crm_company_import_nta"),
        {"file": SimpleUploadedFile("bad.csv", data), "encoding": "auto"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "取り込まなかった行（誤りのある行）: 1 行" in html
    assert "法人番号のチェックデジットが正しくありません" in html
    assert list(Company.objects.values_list("name", flat=True)) == ["任天堂株式会社"]


def test_admin_dry_run_shows_counts_and_writes_nothing(
    client, network, superuser_actor
):
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_import_nta"),
        {
            "file": SimpleUploadedFile("all.csv", nta_csv(FULL_FILE)),
            "encoding": "utf-8",
            "dry_run": "on",
        },
    )

    html = response.content.decode()
    assert "確認結果（何も登録していません）" in html
    assert '<td id="nta-created">5</td>' in html
    assert not Company.objects.exists()


def test_admin_refuses_files_above_the_upload_cap(
    client, network, superuser_actor, monkeypatch
):
    monkeypatch.setattr(admin_nta, "MAX_UPLOAD_BYTES", 100)
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_import_nta"),
        {"file": SimpleUploadedFile("all.csv", nta_csv(FULL_FILE)), "encoding": "auto"},
    )

    assert "ファイルが大きすぎます" in response.content.decode()
    assert not Company.objects.exists()


def test_admin_refuses_more_rows_than_one_request_can_import(
    client, network, superuser_actor, monkeypatch
):
    monkeypatch.setattr(admin_nta, "MAX_UPLOAD_ROWS", 4)
    client.force_login(superuser_actor.user)

    response = client.post(
        reverse("admin:crm_company_import_nta"),
        {"file": SimpleUploadedFile("all.csv", nta_csv(FULL_FILE)), "encoding": "auto"},
    )

    html = response.content.decode()
    assert "行数が多すぎます（この画面の上限は 4 行です）" in html
    assert "manage.py import_nta_companies" in html
    assert not Company.objects.exists()


def test_admin_import_is_for_superusers_only(client, network, django_user_model):
    staff = django_user_model.objects.create_user("admin-staff", password="pw")
    staff.is_staff = True
    staff.save()
    client.force_login(staff)

    get = client.get(reverse("admin:crm_company_import_nta"))
    post = client.post(
        reverse("admin:crm_company_import_nta"),
        {"file": SimpleUploadedFile("all.csv", nta_csv(FULL_FILE)), "encoding": "auto"},
    )

    assert (get.status_code, post.status_code) == (403, 403)
    assert not Company.objects.exists()
