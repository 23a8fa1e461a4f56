"""The monthly statistics report mailed to managers (issue 7 "Monthly report").

The data set is the managers' page one (tests/crm/test_web_statistics.py):
関東 and 近畿 consultations in FY2025, two of them in December 2025. The
report of December goes out on the first business day of January 2026,
which the calendar puts on Monday 5 January (1/1–1/3 closure, then a
weekend). The attachment is opened with openpyxl and checked against the
statistics service for the manager's reach, and against hand counts.
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from crm.models import Notification
from crm.services.monthly_report import KIND, first_business_day, monthly_report_send
from crm.services.monthly_report_workbook import XLSX_CONTENT_TYPE
from crm.statistics.consultations import consultation_statistics
from crm.statistics.referrals import referral_statistics
from crm.tasks import monthly_report_send_task
from support_network.calendar import JST, is_business_day
from tests.conftest import make_actor
from tests.crm.test_web_statistics import build_dataset

REPORT_DAY = dt.datetime(2026, 1, 5, 7, 0, tzinfo=JST)
MEASURES = ("consultations", "companies", "new_companies", "minutes", "yorozu_links")


def manager(code: str, username: str, email: str = ""):
    actor = make_actor(code, "manager", username=username)
    actor.user.email = email or f"{username}@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor


@pytest.fixture
def managers(network):
    return {
        "kanto": manager("bureau-kanto", "kanto-manager"),
        "kinki": manager("bureau-kinki", "kinki-manager"),
    }


@pytest.fixture
def dataset(network):
    return build_dataset(network)


def sheets_of(message):
    """Open the message's only attachment; return each sheet's rows, and the book."""
    assert len(message.attachments) == 1
    name, content, mimetype = message.attachments[0]
    assert name.endswith(".xlsx") and mimetype == XLSX_CONTENT_TYPE
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {
        ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets
    }, book


def mail_to(address: str):
    found = [m for m in mail.outbox if m.to == [address]]
    assert len(found) == 1, [m.to for m in mail.outbox]
    return found[0]


def test_first_business_day_follows_the_calendar():
    # 1/1–1/3 closure, then Saturday and Sunday.
    assert first_business_day(2026, 1) == dt.date(2026, 1, 5)
    # 2026-05-01 is a Friday before the Golden Week holidays (5/3–5/6).
    assert first_business_day(2026, 5) == dt.date(2026, 5, 1)
    # 2027-05-01 is a Saturday; 5/3 憲法記念日, 5/4 みどりの日, 5/5 こどもの日.
    assert first_business_day(2027, 5) == dt.date(2027, 5, 6)
    assert first_business_day(2026, 11) == dt.date(2026, 11, 2)  # 11/1 is a Sunday
    for day in (first_business_day(2026, m) for m in range(1, 13)):
        assert is_business_day(day)
        assert not any(is_business_day(day.replace(day=d)) for d in range(1, day.day))


@pytest.mark.django_db
def test_each_manager_gets_the_report_of_their_reach(dataset, managers):
    result = monthly_report_send(now=REPORT_DAY)
    assert result.as_dict() == {
        "is_report_day": True,
        "month": "2025-12",
        "sent": 2,
        "already_sent": 0,
        "failed": 0,
    }
    kanto = managers["kanto"]
    message = mail_to("kanto-manager@example.invalid")
    assert "2025年12月の月次統計レポート" in message.subject
    sheets, book = sheets_of(message)
    assert list(sheets) == [
        "概要",
        "前月_都道府県×分野",
        "前月_組織",
        "年度累計_都道府県×分野",
        "年度累計_組織",
        "年度累計_月別",
        "年度累計_紹介",
    ]
    # Every sheet: Japanese header row, frozen, with an auto-filter.
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")

    # December 2025 in 関東: one consultation (c2, 商標, by the 東京 window).
    month = sheets["前月_都道府県×分野"]
    assert month[0] == (
        "都道府県（対応組織）",
        "相談分野",
        "相談件数",
        "企業数",
        "新規企業数",
        "相談時間（分）",
        "よろず連携件数",
    )
    assert month[1:] == [
        ("東京都", "商標", 1, 1, 0, 30, 0),
        ("合計", None, 1, 1, 0, 30, 0),
    ]
    service = consultation_statistics(
        actor=kanto,
        fiscal_year=2025,
        group_by=["prefecture", "topic"],
        filters={"month": "2025-12"},
        measures=["yorozu_links"],
    )
    assert [r[:2] for r in month[1:-1]] == [
        (r["prefecture_label"], r["topic_label"]) for r in service["rows"]
    ]

    # The fiscal year to date matches the service cell by cell.
    for title, dims in (
        ("年度累計_都道府県×分野", ["prefecture", "topic"]),
        ("年度累計_組織", ["organisation"]),
        ("年度累計_月別", ["month"]),
    ):
        service = consultation_statistics(
            actor=kanto, fiscal_year=2025, group_by=dims, measures=["yorozu_links"]
        )
        expected = [
            (*(r[f"{d}_label"] for d in dims), *(r[m] for m in MEASURES))
            for r in service["rows"]
        ]
        expected.append(
            (
                "合計",
                *[None] * (len(dims) - 1),
                *(service["totals"][m] for m in MEASURES),
            )
        )
        assert sheets[title][1:] == expected, title
    # … and the hand counts (the managers' page test works them out).
    assert sheets["年度累計_月別"][-1] == ("合計", 6, 4, 3, 180, 3)
    organisations = {r[0]: r[1] for r in sheets["年度累計_組織"][1:]}
    assert organisations == {
        "東京都知財総合支援窓口": 4,
        "東京都よろず支援拠点": 1,
        "長野県知財総合支援窓口": 1,
        "合計": 6,
    }
    referrals = referral_statistics(actor=kanto, fiscal_year=2025)["totals"]
    assert sheets["年度累計_紹介"][-1] == (
        "合計",
        3,  # R1 accepted, R2 declined, R3 waiting
        1,
        1,
        0,
        1,
        0,
        0,
        referrals["acceptance_rate"],
        referrals["median_answer_business_days"],
    )
    assert referrals["acceptance_rate"] == 0.5
    summary = {r[0]: r[1:] for r in sheets["概要"][1:]}
    assert summary["対象"][0] == "関東経済産業局 知的財産室 の担当地域"
    assert summary["前月"][0] == "2025年12月"
    assert summary["年度"][0] == "2025年度（令和7年度）"
    assert summary["相談件数"] == (1, 6)
    assert summary["紹介の受入率"] == (None, 0.5)


@pytest.mark.django_db
def test_a_manager_of_another_region_does_not_get_this_regions_rows(dataset, managers):
    monthly_report_send(now=REPORT_DAY)
    sheets, _book = sheets_of(mail_to("kinki-manager@example.invalid"))
    text = repr(sheets)
    assert "東京都" not in text and "長野県" not in text
    assert sheets["前月_都道府県×分野"][1:] == [
        ("大阪府", "海外展開", 1, 1, 0, 30, 0),
        ("合計", None, 1, 1, 0, 30, 0),
    ]
    assert sheets["年度累計_組織"][1:] == [
        ("大阪府知財総合支援窓口", 2, 1, 1, 60, 1),
        ("合計", 2, 1, 1, 60, 1),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2026, 1, 2, 7, 0, tzinfo=JST),  # year-end closure
        dt.datetime(2026, 1, 4, 7, 0, tzinfo=JST),  # Sunday
        dt.datetime(2026, 1, 6, 7, 0, tzinfo=JST),  # second business day
        dt.datetime(2026, 1, 20, 7, 0, tzinfo=JST),
    ],
)
def test_nothing_is_sent_on_other_days(dataset, managers, moment):
    result = monthly_report_send(now=moment)
    assert result.is_report_day is False
    assert mail.outbox == []
    assert not Notification.objects.filter(kind=KIND).exists()


@pytest.mark.django_db
def test_the_day_is_the_japanese_day(managers):
    # 2026-01-04 22:30 UTC is already 1/5 07:30 in Japan: the JST day counts.
    assert monthly_report_send(
        now=dt.datetime(2026, 1, 4, 22, 30, tzinfo=dt.UTC)
    ).is_report_day
    assert not monthly_report_send(
        now=dt.datetime(2026, 1, 5, 15, 30, tzinfo=dt.UTC)  # 1/6 00:30 JST
    ).is_report_day


@pytest.mark.django_db
def test_sent_once_per_manager_however_often_it_runs(dataset, managers):
    first = monthly_report_send(now=REPORT_DAY)
    again = monthly_report_send(now=REPORT_DAY + dt.timedelta(hours=3))
    assert (first.sent, again.sent, again.already_sent) == (2, 0, 2)
    assert len(mail.outbox) == 2
    records = Notification.objects.filter(kind=KIND)
    assert sorted(records.values_list("dedupe_key", flat=True)) == sorted(
        f"monthly-report:{m.user.pk}:2025-12" for m in managers.values()
    )
    assert all(n.emailed_at is not None for n in records)
    # The next month's report is a new one.
    monthly_report_send(now=dt.datetime(2026, 2, 2, 7, 0, tzinfo=JST))
    assert len(mail.outbox) == 4


@pytest.mark.django_db
def test_only_active_managers_with_an_address_are_mailed(network, managers):
    quiet = manager("bureau-chubu", "chubu-manager")
    quiet.membership.is_active = False
    quiet.membership.save(update_fields=["is_active"])
    make_actor("inpit-window-13", "window_staff", username="not-a-manager")
    no_address = make_actor("bureau-tohoku", "manager", username="no-address")
    assert no_address.user.email == ""
    result = monthly_report_send(now=REPORT_DAY)
    assert result.sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "kanto-manager@example.invalid",
        "kinki-manager@example.invalid",
    ]


@pytest.mark.django_db
def test_a_failed_send_is_sent_by_the_next_run(managers, settings):
    # An SMTP server that is not there: the claim is released, nothing recorded.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = (
        "127.0.0.1",
        1,
        2,
    )
    result = monthly_report_send(now=REPORT_DAY)
    assert (result.sent, result.failed) == (0, 2)
    assert not Notification.objects.filter(kind=KIND).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    result = monthly_report_send(now=REPORT_DAY + dt.timedelta(minutes=30))
    assert (result.sent, result.failed) == (2, 0)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_task_on_a_frozen_clock_and_the_beat_schedule(managers, time_machine):
    entry = settings.CELERY_BEAT_SCHEDULE["crm.monthly_report"]
    assert entry["task"] == "crm.monthly_report" == monthly_report_send_task.name
    assert entry["schedule"] == crontab(hour=7, minute=0)
    assert settings.CELERY_TIMEZONE == "Asia/Tokyo"
    time_machine.move_to(REPORT_DAY, tick=False)
    summary = monthly_report_send_task.apply().get()
    assert summary["sent"] == 2
    time_machine.move_to(REPORT_DAY + dt.timedelta(days=1), tick=False)
    assert monthly_report_send_task.apply().get()["is_report_day"] is False
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_command_replays_a_moment(managers, capsys):
    call_command("send_monthly_report", "--now", "2026-01-04T09:00")
    out = capsys.readouterr().out
    assert "最初の営業日（2026/1/5）ではないため" in out
    call_command("send_monthly_report", "--now", "2026-01-05T07:00")
    out = capsys.readouterr().out
    assert "対象月: 2025-12" in out and "送信: 2 件" in out
    call_command("send_monthly_report", "--now", "2026-01-05T08:00")
    assert "送信済み（重複のため送らず）: 2 件" in capsys.readouterr().out
    assert len(mail.outbox) == 2
