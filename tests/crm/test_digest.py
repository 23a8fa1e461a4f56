"""The weekly coordinator digest (Monday 08:00 JST), with a frozen clock.

Each coordinator gets one digest per ISO week of what is overdue (open
follow-ups past due) and stalled (referrals unanswered past respond_by) in
their scope: their own organisation and, for a hub, the organisations of
the prefectures it covers, limited to what the visibility rules let them
see. Nothing is sent when there is nothing to report.
"""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command

from crm.models import FollowUp, Notification
from crm.services.digest import coordinator_digest_send
from crm.tasks import coordinator_digest_task
from support_network.calendar import JST
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ConsentFactory, ReferralFactory

A = "inpit-window-13"  # 東京都知財総合支援窓口
MONDAY = datetime(2026, 5, 11, 8, 0, tzinfo=JST)  # the Monday after Golden Week


def with_email(actor):
    actor.user.email = f"{actor.user.username}@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor


@pytest.fixture
def world(network):
    staff = make_actor(A, "window_staff", "dg-staff")
    tokyo_yorozu = make_actor("yorozu-13", "window_staff", "dg-yorozu-13")
    osaka_yorozu = make_actor("yorozu-27", "window_staff", "dg-yorozu-27")

    def follow_up(due_on, *, consent, confidential=False, status="open", note=""):
        case = CaseFactory(
            organisation=staff.organisation,
            created_by=staff.user,
            is_confidential=confidential,
        )
        if consent:
            ConsentFactory(company=case.company, scope="network")
        return FollowUp.objects.create(
            case=case,
            organisation=case.organisation,
            assignee=staff.user,
            due_on=due_on,
            note=note,
            status=status,
            done_at=MONDAY if status == "done" else None,
        )

    def referral(sender, respond_by, *, consent):
        case = CaseFactory(organisation=sender.organisation, created_by=sender.user)
        if consent:
            ConsentFactory(company=case.company, scope="network")
        return ReferralFactory(
            case=case,
            to_organisation=staff.organisation,
            sent_by=sender.user,
            sent_at=datetime(2026, 4, 24, 10, tzinfo=JST),
            respond_by=respond_by,
        )

    return {
        "shared": follow_up(date(2026, 5, 1), consent=True, note="出願書類の確認"),
        "private": follow_up(date(2026, 4, 30), consent=False, note="見積もり送付"),
        "secret": follow_up(date(2026, 4, 28), consent=True, confidential=True),
        "today": follow_up(date(2026, 5, 11), consent=True),
        "done": follow_up(date(2026, 4, 20), consent=True, status="done"),
        "referral_tokyo": referral(tokyo_yorozu, date(2026, 4, 30), consent=True),
        "referral_osaka": referral(osaka_yorozu, date(2026, 4, 30), consent=False),
        "referral_on_time": referral(tokyo_yorozu, date(2026, 5, 12), consent=True),
    }


def digest_of(actor) -> Notification | None:
    return Notification.objects.filter(
        recipient=actor.user, kind="digest.coordinator"
    ).first()


def test_each_coordinator_gets_what_is_overdue_in_their_scope(
    world, django_capture_on_commit_callbacks
):
    own = with_email(make_actor(A, "coordinator", "dg-coord-a"))
    kanto = with_email(make_actor("bureau-kanto", "coordinator", "dg-kanto"))
    kinki = with_email(make_actor("bureau-kinki", "coordinator", "dg-kinki"))
    national = make_actor("jpo", "coordinator", "dg-jpo")

    with django_capture_on_commit_callbacks(execute=True):
        counts = coordinator_digest_send(now=MONDAY)

    assert counts["digest.sent"] == 3
    # 近畿経済産業局 covers Osaka, not Tokyo: nothing to report, nothing sent.
    assert digest_of(kinki) is None
    assert counts["digest.empty"] >= 1

    # The window's own coordinator: its follow-ups it may see (not the
    # confidential one), and both referrals waiting for its answer.
    text = digest_of(own).message
    assert text.startswith("今週の要確認事項（東京都知財総合支援窓口、2026/5/11時点）")
    assert "■ 期日を過ぎたフォローアップ: 2件" in text
    assert "出願書類の確認」期日 2026/5/1（担当: dg-staff）" in text
    assert "見積もり送付" in text
    assert "■ 回答期限を過ぎた紹介: 2件" in text
    assert world["referral_on_time"].case.company.name not in text

    # 関東経済産業局 (hub of Tokyo): only what the company's network-wide
    # consent opens to it, never a confidential case.
    text = digest_of(kanto).message
    assert "■ 期日を過ぎたフォローアップ: 1件" in text
    assert world["shared"].case.company.name in text
    assert world["private"].case.company.name not in text
    assert world["secret"].case.company.name not in text
    assert "■ 回答期限を過ぎた紹介: 1件" in text
    assert world["referral_tokyo"].case.company.name in text
    assert world["referral_osaka"].case.company.name not in text

    # JPO covers the nation under the same consent rule.
    text = digest_of(national).message
    assert "期日を過ぎたフォローアップ: 1件" in text
    assert "回答期限を過ぎた紹介: 1件" in text

    # One e-mail each to those with an address, linking to the board.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "dg-coord-a@example.invalid",
        "dg-kanto@example.invalid",
    ]
    assert mail.outbox[0].subject == "[知財経営支援 CRM] 今週の要確認事項"
    assert "http://127.0.0.1:8000/board/" in mail.outbox[0].body


def test_one_digest_per_coordinator_per_iso_week(world):
    own = make_actor(A, "coordinator", "dg-coord-a")

    assert coordinator_digest_send(now=MONDAY)["digest.sent"] == 1
    again = coordinator_digest_send(now=datetime(2026, 5, 13, 15, 0, tzinfo=JST))
    assert again["digest.sent"] == 0
    assert again["digest.already_sent"] == 1
    assert Notification.objects.filter(recipient=own.user).count() == 1
    # Sunday 17 May is still ISO week 20; Monday 18 May starts week 21.
    assert (
        coordinator_digest_send(now=datetime(2026, 5, 17, 8, tzinfo=JST))["digest.sent"]
        == 0
    )
    assert (
        coordinator_digest_send(now=datetime(2026, 5, 18, 8, tzinfo=JST))["digest.sent"]
        == 1
    )
    keys = sorted(
        Notification.objects.filter(recipient=own.user).values_list(
            "dedupe_key", flat=True
        )
    )
    m = own.membership.pk
    assert keys == [
        f"digest:2026-W20:m{m}:u{own.user.pk}",
        f"digest:2026-W21:m{m}:u{own.user.pk}",
    ]


def test_nothing_is_sent_when_nothing_is_overdue(network):
    own = make_actor(A, "coordinator", "dg-coord-a")
    counts = coordinator_digest_send(now=MONDAY)
    assert counts["digest.sent"] == 0
    assert counts["digest.empty"] >= 1
    assert digest_of(own) is None


def test_completing_the_overdue_work_empties_next_weeks_digest(world):
    own = make_actor(A, "coordinator", "dg-coord-a")
    coordinator_digest_send(now=MONDAY)
    FollowUp.objects.filter(status="open").update(status="done", done_at=MONDAY)
    for key in ("referral_tokyo", "referral_osaka", "referral_on_time"):
        world[key].status = "declined"
        world[key].save(update_fields=["status"])

    coordinator_digest_send(now=datetime(2026, 5, 18, 8, tzinfo=JST))
    assert Notification.objects.filter(recipient=own.user).count() == 1


def test_the_beat_runs_the_digest_on_monday_at_8_jst():
    entry = settings.CELERY_BEAT_SCHEDULE["crm.coordinator_digest"]
    assert entry["task"] == "crm.coordinator_digest"
    schedule = entry["schedule"]
    assert (schedule.hour, schedule.minute, schedule.day_of_week) == ({8}, {0}, {1})
    assert settings.CELERY_TIMEZONE == "Asia/Tokyo"


def test_the_task_and_the_command_run_the_same_digest_for_a_moment(world):
    own = make_actor(A, "coordinator", "dg-coord-a")
    result = coordinator_digest_task.apply(kwargs={"now": MONDAY.isoformat()}).get()
    assert result["digest.sent"] == 1

    out = StringIO()
    call_command("send_digest", "--now", "2026-05-12T09:00", stdout=out)
    text = out.getvalue()
    assert "2026-05-12 09:00 日本時間、2026年 第20週" in text
    assert "送信したダイジェスト: 0 件" in text
    assert "今週は送信済み: 1 件" in text
    assert Notification.objects.filter(recipient=own.user).count() == 1
