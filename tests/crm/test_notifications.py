"""In-app notifications and their e-mail copies (API.md `notifications/`).

Also case assignment, whose only effects a user notices are the new
assignee, the audit trail and the assignee's notification.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from crm.models import AuditEvent, Notification
from crm.services import referral_transitions
from crm.services.assignment import case_assign
from crm.services.notification_emails import notification_email_send
from crm.services.notifications import NotificationItem, notify, notify_many
from crm.services.referral_transitions import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
)
from crm.services.referrals import referral_send
from crm.services.reminders import reminders_sweep
from support_network.calendar import JST
from support_network.errors import NotVisible, PermissionDenied
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ConsentFactory

SENDER = "yorozu-13"
RECEIVER = "inpit-window-13"


def with_email(actor):
    actor.user.email = f"{actor.user.username}@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor


@pytest.fixture
def people(network):
    return {
        role: with_email(make_actor(RECEIVER, role, f"{role}-receiver"))
        for role in ("window_staff", "coordinator", "manager", "org_admin", "expert")
    }


@pytest.fixture
def sender(network):
    return with_email(make_actor(SENDER, "window_staff", "notify-sender"))


@pytest.fixture
def case(network, sender):
    case = CaseFactory(
        organisation=network[SENDER], created_by=sender.user, assignee=sender.user
    )
    ConsentFactory(company=case.company, scope="network")
    return case


def send(sender, case, network, to=RECEIVER):
    return referral_send(
        actor=sender,
        case=case,
        to_organisation=network[to],
        reason="商標の出願について",
        topics=["trademark"],
    )


# --- notify -------------------------------------------------------------------


def test_notify_records_one_row_per_recipient_and_mails_only_after_commit(
    people, django_capture_on_commit_callbacks
):
    recipients = [people["coordinator"].user, people["window_staff"].user]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rows = notify(
            recipients=recipients,
            kind="referral.sent",
            message="紹介が届きました: テスト",
        )
        assert mail.outbox == []
    for callback in callbacks:
        callback()

    assert sorted(n.recipient_id for n in rows) == sorted(u.pk for u in recipients)
    assert Notification.objects.count() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in recipients)
    assert mail.outbox[0].subject == "[知財経営支援 CRM] 紹介が届きました"
    assert "紹介が届きました: テスト" in mail.outbox[0].body
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_a_rolled_back_action_leaves_no_notification_and_sends_no_mail(people):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(
            recipients=[people["coordinator"].user], kind="referral.sent", message="x"
        )
        raise RuntimeError("the action failed after notifying")

    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_a_dedupe_key_records_and_mails_an_event_exactly_once(
    people, django_capture_on_commit_callbacks
):
    user = people["coordinator"].user

    with django_capture_on_commit_callbacks(execute=True):
        first = notify(
            recipients=[user], kind="reminder", message="回答期限です", dedupe_key="r:1"
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = notify(
            recipients=[user], kind="reminder", message="回答期限です", dedupe_key="r:1"
        )

    assert [n.pk for n in again] == [n.pk for n in first]
    assert Notification.objects.get().dedupe_key == f"r:1:u{user.pk}"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "[知財経営支援 CRM] お知らせ"


def test_an_email_is_claimed_once_even_when_sent_twice(people):
    with transaction.atomic():
        rows = notify(
            recipients=[people["coordinator"].user], kind="case.assigned", message="x"
        )
    ids = [n.pk for n in rows]

    assert notification_email_send(ids=ids) == 1
    assert notification_email_send(ids=ids) == 0
    assert len(mail.outbox) == 1


def test_recipients_without_an_address_get_the_in_app_notification_only(
    network, django_capture_on_commit_callbacks
):
    no_address = make_actor(RECEIVER, "coordinator", "no-address")

    with django_capture_on_commit_callbacks(execute=True):
        notify(recipients=[no_address.user], kind="x", message="y")

    assert Notification.objects.get().recipient == no_address.user
    assert mail.outbox == []


# --- who hears of what --------------------------------------------------------


def test_a_new_referral_is_told_to_the_receivers_triage_roles(
    network, people, sender, case, django_capture_on_commit_callbacks
):
    outsider = with_email(make_actor("yorozu-27", "coordinator", "outsider"))

    with django_capture_on_commit_callbacks(execute=True):
        referral = send(sender, case, network)

    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {
        "window_staff-receiver",
        "coordinator-receiver",
        "org_admin-receiver",
    }
    assert outsider.user.username not in told
    notification = Notification.objects.filter(kind="referral.sent").first()
    assert notification.object_type == "referral"
    assert notification.object_id == str(referral.pk)
    assert "東京都よろず支援拠点 から紹介が届きました" in notification.message
    assert "回答期限は" in notification.message
    assert len(mail.outbox) == 3


def test_an_organisation_of_experts_only_is_still_told(network, sender, case):
    attorney = make_actor("jpaa-kanto", "expert", "attorney-kanto")

    send(sender, case, network, to="jpaa-kanto")

    assert Notification.objects.get().recipient == attorney.user


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("accept", "referral.accepted"),
        ("decline", "referral.declined"),
    ],
)
def test_an_answer_goes_back_to_the_sender(
    network, people, sender, case, action, kind, django_capture_on_commit_callbacks
):
    referral = send(sender, case, network)
    Notification.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        getattr(referral_transitions, f"referral_{action}")(
            actor=people["window_staff"], referral=referral, note="担当者が不在です"
        )

    notification = Notification.objects.get()
    assert notification.recipient == sender.user
    assert notification.kind == kind
    assert [m.to for m in mail.outbox] == [[sender.user.email]]
    if action == "decline":
        assert "担当者が不在です" in notification.message


def test_completion_sends_the_outcome_note_to_the_sender(network, people, sender, case):
    referral = send(sender, case, network)
    referral_accept(actor=people["coordinator"], referral=referral)
    Notification.objects.all().delete()

    referral_complete(
        actor=people["coordinator"], referral=referral, outcome_note="商標登録出願済み"
    )

    notification = Notification.objects.get()
    assert notification.recipient == sender.user
    assert notification.kind == "referral.completed"
    assert "商標登録出願済み" in notification.message


def test_an_answer_reaches_the_senders_organisation_when_the_sender_left(
    network, people, sender, case
):
    referral = send(sender, case, network)
    sender.membership.is_active = False
    sender.membership.save()
    coordinator = make_actor(SENDER, "coordinator", "sender-coordinator")
    Notification.objects.all().delete()

    referral_accept(actor=people["coordinator"], referral=referral)

    assert Notification.objects.get().recipient == coordinator.user


def test_a_cancellation_is_told_to_the_receiver_including_who_accepted(
    network, people, sender, case
):
    referral = send(sender, case, network)
    referral_accept(actor=people["expert"], referral=referral)
    Notification.objects.all().delete()

    referral_cancel(actor=sender, referral=referral, note="本人の希望で中止")

    told = set(
        Notification.objects.filter(kind="referral.cancelled").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {
        "window_staff-receiver",
        "coordinator-receiver",
        "org_admin-receiver",
        "expert-receiver",
    }
    assert "本人の希望で中止" in Notification.objects.first().message


# --- the API ------------------------------------------------------------------


def test_the_inbox_lists_only_the_callers_notifications_newest_first(
    api, network, people, sender, case
):
    referral = send(sender, case, network)
    referral_accept(actor=people["coordinator"], referral=referral)

    body = api(sender).get("/api/v1/notifications/").json()
    assert [n["kind"] for n in body["results"]] == ["referral.accepted"]
    row = body["results"][0]
    assert set(row) == {"id", "kind", "message", "object", "created_at", "read_at"}
    assert row["object"] == {"type": "referral", "id": referral.pk}
    assert row["read_at"] is None
    assert body["next"] is None

    theirs = api(people["coordinator"]).get("/api/v1/notifications/").json()
    assert [n["kind"] for n in theirs["results"]] == ["referral.sent"]


def test_reading_a_notification_marks_it_once(api, network, people):
    user = people["coordinator"]
    (notification,) = notify(recipients=[user.user], kind="x", message="y")

    first = api(user).post(f"/api/v1/notifications/{notification.pk}/read/")
    assert first.status_code == 200
    read_at = first.json()["read_at"]
    assert read_at is not None
    again = api(user).post(f"/api/v1/notifications/{notification.pk}/read/")
    assert again.json()["read_at"] == read_at


def test_someone_elses_notification_does_not_exist_for_you(api, network, people):
    (notification,) = notify(
        recipients=[people["coordinator"].user], kind="x", message="y"
    )

    other = people["window_staff"]
    assert (
        api(other).get(f"/api/v1/notifications/{notification.pk}/").status_code == 404
    )
    assert (
        api(other).post(f"/api/v1/notifications/{notification.pk}/read/").status_code
        == 404
    )
    notification.refresh_from_db()
    assert notification.read_at is None


def test_notifications_need_no_acting_organisation(api, network, people):
    user = people["coordinator"]
    make_actor("jpaa-kanto", "expert", user.user.username)  # a second membership
    notify(recipients=[user.user], kind="x", message="y")

    response = api(user).get("/api/v1/notifications/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_anonymous_callers_are_refused(api, network):
    assert api().get("/api/v1/notifications/").status_code in (401, 403)


# --- assignment ---------------------------------------------------------------


@pytest.fixture
def own_case(network, people):
    return CaseFactory(
        organisation=network[RECEIVER],
        created_by=people["window_staff"].user,
        assignee=people["window_staff"].user,
    )


@pytest.mark.parametrize("role", ["coordinator", "manager", "org_admin"])
def test_coordinators_managers_and_admins_assign_a_member_who_is_told(
    api, people, own_case, role, django_capture_on_commit_callbacks
):
    assignee = people["expert"]

    with django_capture_on_commit_callbacks(execute=True):
        response = api(people[role]).post(
            f"/api/v1/cases/{own_case.pk}/assign/",
            {"assignee": assignee.user.pk},
            format="json",
        )

    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == assignee.user.pk
    own_case.refresh_from_db()
    assert own_case.assignee == assignee.user
    event = AuditEvent.objects.get(action="case.assign")
    assert event.actor == people[role].user
    assert event.data == {
        "from": people["window_staff"].user.pk,
        "to": assignee.user.pk,
        "changes": {"assignee": [people["window_staff"].user.pk, assignee.user.pk]},
    }
    notification = Notification.objects.get(kind="case.assigned")
    assert notification.recipient == assignee.user
    assert mail.outbox[0].to == [assignee.user.email]
    assert mail.outbox[0].subject == "[知財経営支援 CRM] 案件の担当者になりました"
    # The expert now sees the case assigned to them.
    assert api(assignee).get(f"/api/v1/cases/{own_case.pk}/").status_code == 200


def test_window_staff_cannot_assign(api, people, own_case):
    response = api(people["window_staff"]).post(
        f"/api/v1/cases/{own_case.pk}/assign/",
        {"assignee": people["coordinator"].user.pk},
        format="json",
    )

    assert response.status_code == 403
    own_case.refresh_from_db()
    assert own_case.assignee == people["window_staff"].user
    assert not AuditEvent.objects.filter(action="case.assign").exists()


def test_the_assignee_must_be_an_active_member_of_the_owning_organisation(
    api, network, people, own_case
):
    outsider = make_actor(SENDER, "window_staff", "not-a-member")
    former = make_actor(RECEIVER, "window_staff", "former-member")
    former.membership.is_active = False
    former.membership.save()
    client = api(people["coordinator"])

    for user_id in (outsider.user.pk, former.user.pk, 999999):
        response = client.post(
            f"/api/v1/cases/{own_case.pk}/assign/", {"assignee": user_id}, format="json"
        )
        assert response.status_code == 400
        assert "assignee" in response.json()
    assert not Notification.objects.exists()


def test_a_receiving_coordinator_cannot_assign_the_senders_case(
    network, people, sender, case
):
    referral = send(sender, case, network)

    # The receiver sees the case but does not own it.
    with pytest.raises(PermissionDenied):
        case_assign(
            actor=people["coordinator"], case=case, assignee=people["coordinator"].user
        )
    referral_decline(actor=people["coordinator"], referral=referral)
    # After declining it cannot see it at all.
    with pytest.raises(NotVisible):
        case_assign(
            actor=people["coordinator"], case=case, assignee=people["coordinator"].user
        )


def test_reassigning_the_same_person_changes_nothing(people, own_case):
    case_assign(
        actor=people["coordinator"],
        case=own_case,
        assignee=people["window_staff"].user,
        now=timezone.now(),
    )

    assert not AuditEvent.objects.filter(action="case.assign").exists()
    assert not Notification.objects.exists()


# --- one e-mail path: notify_many, the retrying task, the backlog -------------------


def test_notify_many_records_many_events_in_one_go_and_dedupes_keyed_ones(
    people, django_capture_on_commit_callbacks
):
    coordinator, staff = people["coordinator"].user, people["window_staff"].user
    items = [
        NotificationItem(
            recipients=[coordinator, staff], message="一件目", dedupe_key="e:1"
        ),
        NotificationItem(recipients=[coordinator, coordinator], message="二件目"),
        NotificationItem(recipients=[staff], message="三件目", kind="case.assigned"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        ids = notify_many(items, kind="referral.sent")
    with django_capture_on_commit_callbacks(execute=True):
        again = notify_many(items[:1], kind="referral.sent")

    assert len(ids) == 4  # 2 keyed + 1 (one row per person) + 1
    assert sorted(again) == sorted(
        Notification.objects.filter(dedupe_key__startswith="e:1:").values_list(
            "pk", flat=True
        )
    )
    assert Notification.objects.count() == 4
    assert set(Notification.objects.values_list("kind", flat=True)) == {
        "referral.sent",
        "case.assigned",
    }
    assert len(mail.outbox) == 4  # the repeated keyed event mailed nobody again


def test_the_email_carries_a_link_to_the_case(
    network, people, sender, case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send(sender, case, network)

    body = mail.outbox[0].body
    assert f"詳細: http://127.0.0.1:8000/cases/{case.pk}/" in body
    assert "返信はできません" in body


@pytest.fixture
def smtp_down(settings):
    """A real SMTP backend pointed at a closed local port: every send fails."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = 9  # discard: nothing listens here
    settings.EMAIL_TIMEOUT = 2
    return settings


def test_an_smtp_failure_never_blocks_the_action_and_the_mail_follows_later(
    network,
    people,
    sender,
    case,
    smtp_down,
    time_machine,
    django_capture_on_commit_callbacks,
):
    time_machine.move_to(datetime(2026, 5, 12, 10, 0, tzinfo=JST), tick=False)

    # The referral is sent although every e-mail attempt (the task and its
    # retries, run in-process here) fails: the in-app rows are the record.
    with django_capture_on_commit_callbacks(execute=True):
        referral = send(sender, case, network)
    assert referral.status == "sent"
    rows = Notification.objects.filter(kind="referral.sent")
    assert rows.count() == 3
    assert rows.filter(emailed_at__isnull=True).count() == 3
    assert mail.outbox == []

    # SMTP is back: the next sweep queues the unsent e-mails again, and each
    # is mailed once.
    smtp_down.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_machine.move_to(datetime(2026, 5, 12, 10, 5, tzinfo=JST), tick=False)
    result = reminders_sweep(now=timezone.now())
    assert result.counts["email.requeued"] == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        p.user.email
        for p in (people["window_staff"], people["coordinator"], people["org_admin"])
    )
    assert rows.filter(emailed_at__isnull=True).count() == 0
    assert reminders_sweep(now=timezone.now()).counts["email.requeued"] == 0
    assert len(mail.outbox) == 3
