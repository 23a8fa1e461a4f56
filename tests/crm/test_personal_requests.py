"""Requests from a person (本人): the disclosure package and erase (APPI art. 33, 35).

One company with two people (佐藤 花子, the requester, and 田中 次郎), records
that name each of them, her consent, and provision records on both sides
(the window provided her data to よろず; よろず provided it back). The
package holds exactly her items and both provision records, nothing of 田中;
after an erase her name, e-mail and phone are found nowhere in the
database (every text and JSON column of every model), her consent has
ended, the provision records are still there and statistics are unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast

from crm.exports.files import export_file_path
from crm.models import (
    AuditEvent,
    Consent,
    Contact,
    Export,
    Notification,
    ProvisionRecord,
)
from crm.rules.personal_data import ERASED_MARKER
from crm.services.consultations import consultation_create
from crm.services.contacts import contact_create, contact_update
from crm.services.personal_requests import contact_disclosure_request, contact_erase
from crm.services.referrals import referral_send
from crm.statistics.consultations import consultation_statistics
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory

JST = ZoneInfo("Asia/Tokyo")
NOW = dt.datetime(2026, 11, 2, 10, 0, tzinfo=JST)
HANAKO = "佐藤 花子"
HANAKO_MAIL = "hanako.sato@example.jp"
HANAKO_PHONE = "03-5555-0101"
JIRO = "田中 次郎"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def _consult(actor, company, summary, case=None, day=5):
    return consultation_create(
        actor=actor,
        company=company,
        case=case,
        occurred_at=dt.datetime(2026, 10, day, 10, 0, tzinfo=JST),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary=summary,
        now=dt.datetime(2026, 10, day, 11, 0, tzinfo=JST),
    )


@pytest.fixture
def person(network, staff_a, staff_b):
    admin_a = make_actor(ORG_A, "org_admin")
    company = CompanyFactory(name="株式会社開示テスト", registered_by=network[ORG_A])
    hanako = contact_create(
        actor=staff_a,
        company=company,
        name=HANAKO,
        name_kana="サトウ ハナコ",
        email=HANAKO_MAIL,
        phone=HANAKO_PHONE,
    )
    contact_update(actor=staff_a, contact=hanako, title="知財部長")
    jiro = contact_create(
        actor=staff_a, company=company, name=JIRO, email="jiro@example.jp"
    )
    consent = ConsentFactory(company=company, contact=hanako)
    mine = _consult(staff_a, company, "佐藤花子様から商標出願の相談。")
    other = _consult(
        staff_a, company, f"{JIRO}様から特許の相談。", case=mine.case, day=6
    )
    sent = referral_send(
        actor=staff_a,
        case=mine.case,
        to_organisation=network[ORG_B],
        reason=f"{HANAKO}様の件で専門家の助言が必要",
        topics=["patent"],
        now=dt.datetime(2026, 10, 7, 10, 0, tzinfo=JST),
    )
    b_case = _consult(staff_b, company, "よろず拠点での経営相談", day=8).case
    received = referral_send(
        actor=staff_b,
        case=b_case,
        to_organisation=network[ORG_A],
        reason="知財の相談",
        topics=["patent"],
        now=dt.datetime(2026, 10, 9, 10, 0, tzinfo=JST),
    )
    # A notification naming her (e.g. a note written into a referral answer).
    Notification.objects.create(
        recipient=staff_a.user,
        kind="test",
        message=f"{HANAKO}様（{HANAKO_MAIL}）に連絡してください",
    )
    # A provision record of another company: not hers.
    stranger = CompanyFactory(name="株式会社無関係", registered_by=network[ORG_A])
    ConsentFactory(company=stranger)
    contact_create(actor=staff_a, company=stranger, name="高橋 三郎")
    unrelated = _consult(staff_a, stranger, "無関係の相談", day=10)
    referral_send(
        actor=staff_a,
        case=unrelated.case,
        to_organisation=network[ORG_B],
        reason="無関係",
        topics=["patent"],
        now=dt.datetime(2026, 10, 11, 10, 0, tzinfo=JST),
    )
    return {
        "admin_a": admin_a,
        "company": company,
        "hanako": hanako,
        "jiro": jiro,
        "consent": consent,
        "mine": mine,
        "other": other,
        "sent": sent,
        "received": received,
    }


def _package(export) -> dict[str, bytes]:
    with zipfile.ZipFile(export_file_path(export)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_disclosure_package_holds_exactly_her_items_and_both_provision_records(
    person, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        export = contact_disclosure_request(
            actor=person["admin_a"], contact=person["hanako"], now=NOW
        )
    export.refresh_from_db()
    assert (export.kind, export.format, export.status) == ("disclosure", "zip", "done")
    assert export.progress == 100
    files = _package(export)
    assert sorted(files) == sorted(
        [
            "disclosure.json",
            "本人の情報.csv",
            "同意.csv",
            "第三者提供記録.csv",
            "記録中の記載.csv",
        ]
    )
    package = json.loads(files["disclosure.json"])
    sections = package["sections"]
    contacts = sections["contacts"]["rows"]
    assert [
        (c["id"], c["name"], c["email"], c["phone"], c["title"]) for c in contacts
    ] == [(person["hanako"].pk, HANAKO, HANAKO_MAIL, HANAKO_PHONE, "知財部長")]
    assert [c["id"] for c in sections["consents"]["rows"]] == [person["consent"].pk]
    records = {
        (r["referral"], r["direction"]) for r in sections["provision_records"]["rows"]
    }
    assert records == {
        (person["sent"].pk, "provided"),
        (person["received"].pk, "received"),
    }
    mentions = {
        (m["record"], m["id"], m["field"]) for m in sections["mentions"]["rows"]
    }
    assert mentions == {
        ("相談記録", person["mine"].pk, "summary"),
        ("紹介", person["sent"].pk, "reason"),
    }
    # Nothing of other people, in any file.
    for name, data in files.items():
        text = data.decode("utf-8-sig")
        for other in ("田中", "jiro@example.jp", "高橋", "無関係"):
            assert other not in text, (name, other)
    rows = _csv(files["本人の情報.csv"])
    assert rows[0][:4] == ["ID", "企業等", "登録組織", "氏名"]
    assert rows[1][3] == HANAKO
    assert len(_csv(files["第三者提供記録.csv"])) == 3
    # Audited on the contact, and as an export.
    assert AuditEvent.objects.filter(
        action="contact.disclosure", object_id=str(person["hanako"].pk)
    ).exists()


def _everywhere(needle: str) -> list[str]:
    """Return model.field names whose stored text contains needle, in every app."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField):
                qs = model._default_manager.filter(
                    **{f"{field.name}__contains": needle}
                )
            elif isinstance(field, models.JSONField):
                qs = model._default_manager.annotate(
                    _text=Cast(field.name, models.TextField())
                ).filter(_text__contains=needle)
            else:
                continue
            if qs.exists():
                found.append(f"{model._meta.label}.{field.name}")
    return found


def test_erase_reaches_every_place_she_appeared(person, manager_a):
    before = consultation_statistics(
        actor=manager_a, fiscal_year=2026, group_by=["topic", "month"]
    )
    assert _everywhere(HANAKO) and _everywhere(HANAKO_MAIL)  # she is there

    counts = contact_erase(
        actor=person["admin_a"],
        contact=person["hanako"],
        reason=f"{HANAKO}様ご本人からの利用停止・消去の請求（書面）",
        now=NOW,
    )

    for needle in (HANAKO, "佐藤花子", "サトウ ハナコ", HANAKO_MAIL, HANAKO_PHONE):
        assert _everywhere(needle) == [], needle
    hanako = Contact.objects.get(pk=person["hanako"].pk)
    assert (hanako.name, hanako.email, hanako.phone, hanako.title) == (
        ERASED_MARKER,
        "",
        "",
        "",
    )
    assert hanako.anonymised_at == NOW
    consent = Consent.objects.get(pk=person["consent"].pk)
    assert consent.withdrawn_at == NOW
    # Provision records stay for their legal period (3 years).
    assert ProvisionRecord.objects.filter(contacts=hanako).count() == 2
    # 田中 keeps everything.
    assert Contact.objects.get(pk=person["jiro"].pk).name == JIRO
    assert _everywhere(JIRO)
    assert counts["contacts"] == 1 and counts["consents_withdrawn"] == 1
    assert counts["consultations"] == 1 and counts["referrals"] == 1
    assert counts["notifications"] == 1
    event = AuditEvent.objects.get(action="contact.erase")
    assert event.data["counts"] == counts
    after = consultation_statistics(
        actor=manager_a, fiscal_year=2026, group_by=["topic", "month"]
    )
    assert after == before


# --- API: permissions, 404s, answers -------------------------------------------------


def test_erase_api_permissions(person, api, staff_a, staff_b, network):
    url = f"/api/v1/contacts/{person['hanako'].pk}/erase/"
    # Window staff of the recording organisation: visible, not allowed.
    answer = api(staff_a).post(url, {"reason": "請求"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "not_permitted"
    # よろず's org admin sees the contact (a case of the company) but did not record it.
    admin_b = make_actor(ORG_B, "org_admin")
    answer = api(admin_b).post(url, {"reason": "請求"}, format="json")
    assert answer.status_code == 403 and answer.json()["code"] == "not_permitted"
    # An organisation that cannot see the contact: 404.
    stranger = make_actor("bureau-kinki", "org_admin")
    assert api(stranger).post(url, {"reason": "請求"}, format="json").status_code == 404
    # No reason: 400 with the field.
    answer = api(person["admin_a"]).post(url, {}, format="json")
    assert answer.status_code == 400 and "reason" in answer.json()
    assert Contact.objects.get(pk=person["hanako"].pk).name == HANAKO

    answer = api(person["admin_a"]).post(url, {"reason": "本人の請求"}, format="json")
    assert answer.status_code == 200
    assert answer.json()["erased"] is True
    assert Contact.objects.get(pk=person["hanako"].pk).name == ERASED_MARKER


def test_disclosure_api(person, api, staff_a, django_capture_on_commit_callbacks):
    url = f"/api/v1/contacts/{person['hanako'].pk}/disclosure/"
    answer = api(staff_a).post(url)
    assert answer.status_code == 403 and answer.json()["code"] == "not_permitted"
    stranger = make_actor("bureau-kinki", "org_admin")
    assert api(stranger).post(url).status_code == 404
    assert not Export.objects.filter(kind="disclosure").exists()

    with django_capture_on_commit_callbacks(execute=True):
        answer = api(person["admin_a"]).post(url)
    assert answer.status_code == 202
    body = answer.json()
    assert body["kind"] == "disclosure"
    export = Export.objects.get(pk=body["id"])
    assert export.status == "done"
    download = api(person["admin_a"]).get(f"/api/v1/exports/{export.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    content = b"".join(download.streaming_content)
    assert zipfile.ZipFile(io.BytesIO(content)).namelist()[0] == "disclosure.json"


def test_disclosure_kind_refuses_other_formats(person):
    from crm.exports.requests import export_request
    from support_network.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as error:
        export_request(
            actor=person["admin_a"],
            kind="disclosure",
            fiscal_year=2026,
            format="csv",
            params={"contact": person["hanako"].pk},
        )
    assert error.value.field == "format"


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
def test_disclosure_built_by_a_real_celery_worker(network, monkeypatch, export_dir):
    from tests.crm.test_reminders_worker import start_worker, stop, wait_for

    staff = make_actor(ORG_A, "window_staff", "worker-disclosure-staff")
    admin = make_actor(ORG_A, "org_admin", "worker-disclosure-admin")
    company = CompanyFactory(name="株式会社ワーカー開示", registered_by=network[ORG_A])
    hanako = contact_create(actor=staff, company=company, name=HANAKO)
    monkeypatch.setenv("CRM_EXPORT_DIR", str(export_dir))
    queue = f"disclosure-test-{os.getpid()}"
    from crm.tasks import export_build_task

    worker = start_worker(queue, concurrency=1)
    try:
        export = contact_disclosure_request(actor=admin, contact=hanako)
        export_build_task.apply_async(kwargs={"export_id": export.pk}, queue=queue)
        assert wait_for(
            lambda: Export.objects.get(pk=export.pk).status in ("done", "failed"),
            timeout=60,
        )
    finally:
        stop(worker)
    export.refresh_from_db()
    assert export.status == "done", export.error
    package = json.loads(_package(export)["disclosure.json"])
    assert package["sections"]["contacts"]["rows"][0]["name"] == HANAKO


def test_disclosure_through_exports_api_checks_the_contact(person, api):
    client = api(person["admin_a"])
    answer = client.post(
        "/api/v1/exports/",
        {"kind": "disclosure", "fiscal_year": 2026, "format": "zip", "params": {}},
        format="json",
    )
    assert answer.status_code == 400 and "contact" in answer.json()
    answer = client.post(
        "/api/v1/exports/",
        {"kind": "consultations", "fiscal_year": 2026, "format": "zip"},
        format="json",
    )
    assert answer.status_code == 400 and "format" in answer.json()
    assert not Export.objects.exists()


def test_disclosure_of_an_erased_person_holds_nothing_of_other_erased_people(
    person, network, staff_a, django_capture_on_commit_callbacks
):
    """A marker names nobody: it matches neither other rows nor other texts."""
    other = contact_create(actor=staff_a, company=person["company"], name="伊藤 四郎")
    _consult(staff_a, person["company"], "伊藤 四郎様と田中 次郎様が来所", day=12)
    admin = person["admin_a"]
    contact_erase(actor=admin, contact=person["hanako"], reason="請求", now=NOW)
    contact_erase(actor=admin, contact=other, reason="請求", now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        export = contact_disclosure_request(
            actor=admin, contact=person["hanako"], now=NOW
        )
    export.refresh_from_db()
    sections = json.loads(_package(export)["disclosure.json"])["sections"]
    assert [c["id"] for c in sections["contacts"]["rows"]] == [person["hanako"].pk]
    assert sections["mentions"]["rows"] == []
    assert len(sections["provision_records"]["rows"]) == 2


# --- erase reaches event registrations and survey comments --------------------------


def test_erase_reaches_her_event_registration_and_her_survey_comment(person, staff_a):
    from crm.models import EventAttendee, Survey
    from crm.services.events import attendee_register, event_create

    event = event_create(
        actor=staff_a,
        title="知財セミナー",
        kind="seminar",
        starts_at=dt.datetime(2026, 10, 20, 14, 0, tzinfo=JST),
        is_online=True,
    )
    hers = attendee_register(
        actor=staff_a,
        event=event,
        company=person["company"],
        contact_name=HANAKO,
        contact_email=HANAKO_MAIL,
    )
    other_company = CompanyFactory(name="株式会社別会社")
    his = attendee_register(
        actor=staff_a, event=event, company=other_company, contact_name=JIRO
    )
    survey = Survey.objects.create(
        organisation=person["mine"].organisation,
        company=person["company"],
        source="consultation",
        consultation=person["mine"],
        due_on=dt.date(2026, 10, 15),
        fiscal_year=2026,
        status="answered",
        score=5,
        comment=f"{HANAKO}です。丁寧に説明していただきました。",
    )

    counts = contact_erase(
        actor=person["admin_a"], contact=person["hanako"], reason="本人の請求", now=NOW
    )

    hers = EventAttendee.objects.get(pk=hers.pk)
    assert (hers.contact_name, hers.contact_email) == (ERASED_MARKER, "")
    assert EventAttendee.objects.get(pk=his.pk).contact_name == JIRO
    assert HANAKO not in Survey.objects.get(pk=survey.pk).comment
    assert "丁寧に説明" in Survey.objects.get(pk=survey.pk).comment
    assert counts["event_attendees"] == 1
    for needle in (HANAKO, HANAKO_MAIL):
        assert _everywhere(needle) == [], needle
