"""The reminder sweep with a frozen clock (issue 5 "Done when").

Each walk replays the sweep at chosen moments (`now=`), as the
`send_reminders --now` command does, across a weekend, Golden Week 2026
(4/29 昭和の日, 5/3–5/6) and the year-end closure 12/29–1/3
(reference/calendar.md §2).
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from crm.models import AuditEvent, FollowUp, Notification, Referral
from crm.services.reminders import (
    REMINDER_SOURCES,
    reminders_last_sweep_at,
    reminders_sweep,
)
from support_network.calendar import JST
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ReferralFactory


def jst(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def sweep(moment: datetime) -> dict:
    return reminders_sweep(now=moment).as_dict()


def notes(kind: str, user=None) -> int:
    qs = Notification.objects.filter(kind=kind)
    if user is not None:
        qs = qs.filter(recipient=user)
    return qs.count()


@pytest.fixture
def team(network):
    return {
        "staff": make_actor("inpit-window-13", "window_staff", "rem-staff"),
        "manager": make_actor("inpit-window-13", "manager", "rem-manager"),
        "coordinator_a": make_actor("inpit-window-13", "coordinator", "rem-coord"),
        "receiver": make_actor("yorozu-27", "window_staff", "rem-receiver"),
        "kinki": make_actor("bureau-kinki", "coordinator", "rem-kinki"),
        "kanto": make_actor("bureau-kanto", "coordinator", "rem-kanto"),
    }


def follow_up(team, due_on: date, note="特許出願の書類確認") -> FollowUp:
    case = CaseFactory(created_by=team["staff"].user)
    return FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=team["staff"].user,
        due_on=due_on,
        note=note,
    )


def referral(team, sent_at: datetime) -> Referral:
    case = CaseFactory(created_by=team["staff"].user)
    return ReferralFactory(
        case=case,
        to_organisation=team["receiver"].organisation,
        sent_by=team["staff"].user,
        sent_at=sent_at,
        respond_by=sent_at.date(),
    )


# --- follow-ups --------------------------------------------------------------


def test_follow_up_walks_through_golden_week_to_escalation(team):
    # Due Tue 2026-04-28; 4/29 is 昭和の日, 5/2–5/6 a closed stretch.
    f = follow_up(team, date(2026, 4, 28))
    staff, manager = team["staff"].user, team["manager"].user

    assert sweep(jst(2026, 4, 28, 8, 59)) == {}  # before 09:00 JST
    assert sweep(jst(2026, 4, 28, 9, 0)) == {"follow_up.reminder": 1}
    assert sweep(jst(2026, 4, 28, 15, 0)) == {}  # once per business day
    assert sweep(jst(2026, 4, 29, 10)) == {}  # 昭和の日
    assert sweep(jst(2026, 4, 30, 9, 5)) == {"follow_up.reminder": 1}
    assert sweep(jst(2026, 5, 1, 9, 5)) == {"follow_up.reminder": 1}
    for day in (2, 3, 4, 5, 6):  # Saturday and Golden Week holidays
        assert sweep(jst(2026, 5, day, 12)) == {}
    f.refresh_from_db()
    assert (f.reminded_count, f.last_reminded_on, f.escalated_at) == (
        3,
        date(2026, 5, 1),
        None,
    )
    assert sweep(jst(2026, 5, 7, 9, 0)) == {"follow_up.escalation": 1}
    assert sweep(jst(2026, 5, 8, 9, 0)) == {}  # escalated once, then silence

    assert notes("follow_up.reminder", staff) == 3
    assert notes("follow_up.reminder") == 3
    # The organisation's coordinator and manager are told, not the assignee.
    assert notes("follow_up.escalation", manager) == 1
    assert notes("follow_up.escalation", team["coordinator_a"].user) == 1
    assert notes("follow_up.escalation", staff) == 0
    first = Notification.objects.filter(kind="follow_up.reminder").earliest("pk")
    assert "本日が期日" in first.message and "特許出願の書類確認" in first.message
    last = Notification.objects.filter(kind="follow_up.reminder").latest("pk")
    assert "3回目" in last.message
    f.refresh_from_db()
    assert f.escalated_at == jst(2026, 5, 7, 9, 0)


def test_follow_up_due_on_a_weekend_is_first_reminded_on_monday(team):
    follow_up(team, date(2026, 5, 9))  # Saturday
    assert sweep(jst(2026, 5, 9, 10)) == {}
    assert sweep(jst(2026, 5, 10, 10)) == {}
    assert sweep(jst(2026, 5, 11, 9)) == {"follow_up.reminder": 1}
    assert notes("follow_up.reminder", team["staff"].user) == 1


def test_follow_up_walks_through_the_year_end_closure(team):
    f = follow_up(team, date(2026, 12, 28))  # Monday, last open day of 2026
    assert sweep(jst(2026, 12, 28, 9)) == {"follow_up.reminder": 1}
    for moment in (
        jst(2026, 12, 29),
        jst(2026, 12, 31),
        jst(2027, 1, 1),
        jst(2027, 1, 3),
    ):
        assert sweep(moment) == {}
    assert sweep(jst(2027, 1, 4, 9)) == {"follow_up.reminder": 1}
    assert sweep(jst(2027, 1, 5, 9)) == {"follow_up.reminder": 1}
    assert sweep(jst(2027, 1, 6, 9)) == {"follow_up.escalation": 1}
    f.refresh_from_db()
    assert f.reminded_count == 3
    assert notes("follow_up.escalation", team["manager"].user) == 1


def test_a_sweep_after_an_outage_sends_one_late_reminder_not_a_backlog(team):
    f = follow_up(team, date(2026, 4, 27))
    # The sweep was down from Monday to Thursday: one reminder, not three.
    assert sweep(jst(2026, 4, 30, 11)) == {"follow_up.reminder": 1}
    f.refresh_from_db()
    assert (f.reminded_count, f.last_reminded_on) == (1, date(2026, 4, 30))


def test_completing_a_follow_up_stops_its_reminders(team):
    f = follow_up(team, date(2026, 4, 28))
    assert sweep(jst(2026, 4, 28, 9)) == {"follow_up.reminder": 1}
    FollowUp.objects.filter(pk=f.pk).update(status="done", done_at=jst(2026, 4, 28, 12))
    for moment in (jst(2026, 4, 30), jst(2026, 5, 1), jst(2026, 5, 7), jst(2026, 5, 8)):
        assert sweep(moment) == {}
    assert notes("follow_up.reminder") == 1
    assert notes("follow_up.escalation") == 0


def test_a_second_sweep_at_the_same_moment_sends_nothing(team):
    follow_up(team, date(2026, 4, 28))
    referral(team, jst(2026, 4, 24, 14))
    first = sweep(jst(2026, 4, 30, 9))
    assert first == {
        "follow_up.reminder": 1,
        "referral.escalation": 1,
        "referral.reminder": 1,
    }
    count = Notification.objects.count()
    assert sweep(jst(2026, 4, 30, 9)) == {}
    assert Notification.objects.count() == count


def test_each_sweep_is_recorded_for_the_health_page(team):
    assert reminders_last_sweep_at() is None
    sweep(jst(2026, 4, 28, 9))
    event = AuditEvent.objects.get(action="reminders.sweep")
    assert event.data["now"] == jst(2026, 4, 28, 9).isoformat()
    assert reminders_last_sweep_at() == event.at


# --- referrals ---------------------------------------------------------------


def test_referral_walks_through_a_weekend_and_golden_week_to_expiry(team):
    # Sent Fri 2026-04-24: Mon 4/27 is business day 1, Tue 4/28 day 2,
    # 4/29 a holiday, Thu 4/30 day 3, … Thu 5/14 day 10.
    r = referral(team, jst(2026, 4, 24, 14))
    receiver, kinki, kanto = (team[k].user for k in ("receiver", "kinki", "kanto"))

    assert sweep(jst(2026, 4, 27, 9)) == {}
    assert sweep(jst(2026, 4, 28, 9)) == {"referral.reminder": 1}
    assert sweep(jst(2026, 4, 29, 9)) == {}
    assert sweep(jst(2026, 4, 30, 9)) == {"referral.escalation": 1}
    for moment in (jst(2026, 5, 1), jst(2026, 5, 6), jst(2026, 5, 13, 17)):
        assert sweep(moment) == {}
    assert sweep(jst(2026, 5, 14, 9)) == {"referral.expiry": 1}
    assert sweep(jst(2026, 5, 15, 9)) == {}

    r.refresh_from_db()
    assert r.status == "expired"
    assert (r.reminded_at, r.escalated_at, r.closed_at) == (
        jst(2026, 4, 28, 9),
        jst(2026, 4, 30, 9),
        jst(2026, 5, 14, 9),
    )
    assert notes("referral.reminder", receiver) == 1
    # Neither hub may see the case (no network-wide consent; issue 26 item 2:
    # this test used to expect 近畿経済産業局 to be told, which was the bug).
    # Who is told instead: tests/crm/test_notification_visibility.py.
    assert notes("referral.escalation", kinki) == 0
    assert notes("referral.escalation", kanto) == 0
    assert notes("referral.expired", team["staff"].user) == 1


def test_referral_walks_through_the_year_end_closure(team):
    r = referral(team, jst(2026, 12, 25, 16))  # Friday
    assert sweep(jst(2026, 12, 28, 9)) == {}  # business day 1
    assert sweep(jst(2026, 12, 30, 9)) == {}  # closure
    assert sweep(jst(2027, 1, 4, 9)) == {"referral.reminder": 1}
    assert sweep(jst(2027, 1, 5, 9)) == {"referral.escalation": 1}
    r.refresh_from_db()
    assert r.status == "sent"


def test_an_answered_referral_is_neither_reminded_nor_expired(team):
    r = referral(team, jst(2026, 4, 24, 14))
    Referral.objects.filter(pk=r.pk).update(
        status="accepted", answered_at=jst(2026, 4, 27, 10)
    )
    for moment in (jst(2026, 4, 28), jst(2026, 4, 30), jst(2026, 5, 14)):
        assert sweep(moment) == {}
    r.refresh_from_db()
    assert r.status == "accepted"
    assert Notification.objects.count() == 0


# --- the command ---------------------------------------------------------------


def test_send_reminders_command_replays_a_moment_in_japanese(team):
    follow_up(team, date(2026, 4, 28))
    out = StringIO()
    call_command("send_reminders", "--now", "2026-04-28T09:30", stdout=out)
    text = out.getvalue()
    assert "2026-04-28 09:30 日本時間" in text
    assert "フォローアップのリマインド: 1 件" in text
    out = StringIO()
    call_command("send_reminders", "--now", "2026-04-28T09:30+09:00", stdout=out)
    assert "合計: 0 件" in out.getvalue()
    assert notes("follow_up.reminder") == 1


def test_send_reminders_command_refuses_a_bad_moment(team):
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("send_reminders", "--now", "4月28日", stdout=StringIO())


# --- concurrency on real PostgreSQL ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reminder_exactly_once(team):
    follow_ups = [follow_up(team, date(2026, 4, 28), note=f"n{i}") for i in range(60)]
    referrals = [referral(team, jst(2026, 4, 22, 10)) for _ in range(10)]
    moment = jst(2026, 4, 28, 9)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(reminders_sweep(now=moment, batch_size=7).as_dict())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    total = sum(r.get("follow_up.reminder", 0) for r in results)
    assert total == 60
    assert sum(r.get("referral.reminder", 0) for r in results) == 10
    assert sum(r.get("referral.escalation", 0) for r in results) == 10
    assert notes("follow_up.reminder") == 60
    assert notes("referral.reminder") == 10
    assert set(
        FollowUp.objects.filter(pk__in=[f.pk for f in follow_ups]).values_list(
            "reminded_count", flat=True
        )
    ) == {1}
    assert (
        Referral.objects.filter(
            pk__in=[r.pk for r in referrals], reminded_at=moment
        ).count()
        == 10
    )


# --- plug-in sources ---------------------------------------------------------------


def test_registered_sources_add_their_counts_and_a_failing_one_stops_nothing(
    team, monkeypatch
):
    calls = []

    def counting(now, *, batch_size):
        calls.append((now, batch_size))
        return {"extra.reminder": 2, "extra.none": 0}

    def broken(now, *, batch_size):
        raise RuntimeError("a bug in another app")

    monkeypatch.setitem(REMINDER_SOURCES, "test.broken", broken)
    monkeypatch.setitem(REMINDER_SOURCES, "test.counting", counting)
    follow_up(team, date(2026, 4, 28))

    assert sweep(jst(2026, 4, 28, 9)) == {
        "extra.reminder": 2,
        "follow_up.reminder": 1,
        "test.broken.failed": 1,
    }
    assert calls == [(jst(2026, 4, 28, 9), 500)]
    assert notes("follow_up.reminder") == 1
    event = AuditEvent.objects.get(action="reminders.sweep")
    assert event.data["counts"]["test.broken.failed"] == 1


def test_crm_does_not_import_programs():
    """Programs plug into the sweep through the registry, never the reverse."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "crm"
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(n == "programs" or n.startswith("programs.") for n in names):
                offenders.append(str(path.relative_to(root.parent)))
    assert offenders == []
