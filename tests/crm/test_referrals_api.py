"""Closed-loop referrals (API.md `referrals/`, DESIGN.md "Referral life cycle").

The walk goes よろず拠点 (yorozu-13) → INPIT 窓口 (inpit-window-13) → 弁理士会
地域会 (jpaa-kanto) and back; then every illegal transition, the concurrent
double answer, consent withdrawal and the visibility matrix.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from crm.choices import ReferralStatus
from crm.models import (
    AuditEvent,
    Notification,
    ProvisionRecord,
    Referral,
    ReferralTopic,
)
from crm.selectors.visibility import (
    cases_visible_to,
    consultations_visible_to,
    contacts_visible_to,
)
from crm.services import referral_transitions as referral_services
from crm.services.consents import consent_withdraw
from crm.services.referral_transitions import (
    referral_accept,
    referral_cancel,
    referral_complete,
    referral_decline,
    referral_expire,
)
from crm.services.referrals import referral_send
from support_network.calendar import add_business_days
from support_network.errors import Conflict, NotVisible, PermissionDenied
from tests.conftest import make_actor
from tests.crm.factories import (
    CaseFactory,
    ConsentFactory,
    ConsultationFactory,
    ContactFactory,
    ReferralFactory,
)

SENDER = "yorozu-13"
RECEIVER = "inpit-window-13"
THIRD = "yorozu-27"


def with_email(actor):
    actor.user.email = f"{actor.user.username}@example.invalid"
    actor.user.save(update_fields=["email"])
    return actor


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def sender(network):
    return with_email(make_actor(SENDER, "window_staff", "yorozu13-staff"))


@pytest.fixture
def receiver(network):
    return with_email(make_actor(RECEIVER, "coordinator", "window13-coordinator"))


@pytest.fixture
def case(network, sender):
    """A case of the よろず拠点 on a Tokyo company, with a consultation and a contact."""
    case = CaseFactory(
        organisation=network[SENDER],
        created_by=sender.user,
        assignee=sender.user,
        company__name="株式会社みなと精機",
    )
    ConsultationFactory(case=case, author=sender.user)
    ContactFactory(company=case.company, organisation=network[SENDER])
    return case


def consent_for(case, network, *codes, scope="organisations", recorder=None):
    consent = ConsentFactory(
        company=case.company,
        scope=scope,
        organisation=network[SENDER],
        **({"recorded_by": recorder.user} if recorder else {}),
    )
    if codes:
        consent.organisations.set([network[c] for c in codes])
    return consent


def send(actor, case, network, to=RECEIVER, **kwargs):
    return referral_send(
        actor=actor,
        case=case,
        to_organisation=network[to],
        reason=kwargs.pop("reason", "特許出願の進め方について専門的な助言が必要"),
        topics=kwargs.pop("topics", ["patent"]),
        **kwargs,
    )


def post(client, url, body=None):
    return client.post(url, body or {}, format="json")


# --- The walk -------------------------------------------------------------


def test_walk_from_yorozu_to_inpit_window_to_jpaa_branch_and_back(
    api, network, django_capture_on_commit_callbacks
):
    yorozu = with_email(make_actor(SENDER, "window_staff", "yorozu-walker"))
    window = with_email(make_actor(RECEIVER, "coordinator", "window-walker"))
    jpaa = with_email(make_actor("jpaa-kanto", "coordinator", "jpaa-walker"))
    today = timezone.localdate()

    # The よろず拠点 logs a consultation; a case is opened.
    company = post(
        api(yorozu),
        "/api/v1/companies/",
        {"name": "株式会社あおば工房", "kind": "corporation", "prefecture": "13"},
    ).json()
    consultation = post(
        api(yorozu),
        "/api/v1/consultations/",
        {
            "company": company["id"],
            "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
            "channel": "visit",
            "duration_minutes": 45,
            "topics": ["patent", "branding"],
            "summary": "新製品の特許出願を検討",
        },
    )
    assert consultation.status_code == 201, consultation.content
    case_id = consultation.json()["case"]
    referral_body = {
        "case": case_id,
        "to_organisation": RECEIVER,
        "reason": "特許出願の可否について知財窓口の助言を受けたい",
        "topics": ["patent"],
    }

    # Without consent: 409, and nothing is written.
    refused = post(api(yorozu), "/api/v1/referrals/", referral_body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_required"
    assert refused.json()["to_organisation"] == RECEIVER
    assert "同意" in refused.json()["detail"]
    assert Referral.objects.count() == 0
    assert ProvisionRecord.objects.count() == 0
    assert Notification.objects.count() == 0

    # The consent is recorded on the spot; the referral goes out.
    consent = post(
        api(yorozu),
        f"/api/v1/companies/{company['id']}/consents/",
        {
            "scope": "organisations",
            "organisations": [RECEIVER],
            "obtained_on": today.isoformat(),
            "method": "written",
        },
    )
    assert consent.status_code == 201, consent.content
    with django_capture_on_commit_callbacks(execute=True):
        sent = post(api(yorozu), "/api/v1/referrals/", referral_body)
    assert sent.status_code == 201, sent.content
    first = sent.json()
    assert first["status"] == "sent"
    assert first["respond_by"] == add_business_days(today, 3).isoformat()
    assert first["direction"] == "out"
    assert first["topics"] == ["patent"]
    assert [m.to for m in mail.outbox] == [[window.user.email]]
    assert mail.outbox[0].subject == "[知財経営支援 CRM] 紹介が届きました"

    # The window sees it in its inbox, opens the case and accepts.
    assert ids(api(window).get("/api/v1/referrals/", {"direction": "in"})) == [
        first["id"]
    ]
    assert api(window).get(f"/api/v1/cases/{case_id}/").status_code == 200
    accepted = post(
        api(window), f"/api/v1/referrals/{first['id']}/accept/", {"note": "対応します"}
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["answered_by"] == window.user.pk
    assert accepted.json()["answer_note"] == "対応します"

    # The window refers on to the 弁理士会 関東会: the consent does not cover it.
    onward_body = {
        "case": case_id,
        "to_organisation": "jpaa-kanto",
        "reason": "出願書類の作成を弁理士に依頼したい",
        "topics": ["patent"],
    }
    refused = post(api(window), "/api/v1/referrals/", onward_body)
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_required"
    consent = post(
        api(window),
        f"/api/v1/companies/{company['id']}/consents/",
        {
            "scope": "organisations",
            "organisations": ["jpaa-kanto"],
            "obtained_on": today.isoformat(),
            "method": "electronic",
        },
    )
    assert consent.status_code == 201, consent.content
    onward = post(api(window), "/api/v1/referrals/", onward_body)
    assert onward.status_code == 201, onward.content
    second = onward.json()
    assert second["from_organisation"] == RECEIVER

    # The 地域会 accepts and completes: the outcome goes back to the window.
    assert (
        post(api(jpaa), f"/api/v1/referrals/{second['id']}/accept/").status_code == 200
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = post(
            api(jpaa),
            f"/api/v1/referrals/{second['id']}/complete/",
            {"outcome_note": "特許出願を受任し、出願しました（特願2025-123456）"},
        )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"
    assert done.json()["completed_by"] == jpaa.user.pk
    back = Notification.objects.get(recipient=window.user, kind="referral.completed")
    assert "特願2025-123456" in back.message
    assert mail.outbox[-1].to == [window.user.email]
    assert mail.outbox[-1].subject == "[知財経営支援 CRM] 紹介の結果報告が届きました"

    # The window closes its own loop back to the よろず拠点.
    done = post(
        api(window),
        f"/api/v1/referrals/{first['id']}/complete/",
        {"outcome_note": "弁理士会関東会経由で出願済み"},
    )
    assert done.status_code == 200, done.content
    outbox = api(yorozu).get("/api/v1/referrals/", {"direction": "out"}).json()
    assert [(r["id"], r["status"], r["outcome_note"]) for r in outbox["results"]] == [
        (first["id"], "completed", "弁理士会関東会経由で出願済み")
    ]
    assert list(
        Notification.objects.filter(recipient=yorozu.user)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    ) == ["referral.accepted", "referral.completed"]
    # Each of the two sends wrote its provision record.
    assert sorted(
        ProvisionRecord.objects.values_list("provider__code", "recipient__code")
    ) == [(RECEIVER, "jpaa-kanto"), (SENDER, RECEIVER)]
    assert list(
        AuditEvent.objects.filter(object_type="referral", object_id=str(first["id"]))
        .order_by("at", "id")
        .values_list("action", flat=True)
    ) == ["referral.send", "referral.accept", "referral.complete"]


# --- Sending --------------------------------------------------------------


def test_respond_by_is_three_business_days_after_the_jst_send_date(
    network, sender, case
):
    consent_for(case, network, RECEIVER)
    # Thursday 24 April 2025, 16:00 UTC is Friday 25 April 01:00 in Japan;
    # 29 April (昭和の日) is a holiday: Mon 28, Wed 30, Thu 1 May.
    now = dt.datetime(2025, 4, 24, 16, 0, tzinfo=dt.UTC)

    referral = send(sender, case, network, now=now)

    assert referral.respond_by == dt.date(2025, 5, 1)
    assert referral.sent_at == now
    assert referral.sent_by == sender.user
    assert ProvisionRecord.objects.get(referral=referral).provided_on == dt.date(
        2025, 4, 25
    )


def test_network_wide_consent_covers_any_receiver(network, sender, case):
    consent = consent_for(case, network, scope="network")

    referral = send(sender, case, network, to="jpaa-kanto")

    assert referral.consent == consent
    assert referral.status == "sent"


@pytest.mark.parametrize(
    "consent_kind", ["none", "other_organisation", "withdrawn", "other_company"]
)
def test_referral_without_a_covering_active_consent_is_refused(
    api, network, sender, case, consent_kind
):
    if consent_kind == "other_organisation":
        consent_for(case, network, "jpaa-kanto")
    elif consent_kind == "withdrawn":
        consent = consent_for(case, network, RECEIVER)
        consent.withdrawn_at = timezone.now()
        consent.save()
    elif consent_kind == "other_company":
        ConsentFactory(scope="network")

    response = post(
        api(sender),
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_organisation": RECEIVER,
            "reason": "助言",
            "topics": ["patent"],
        },
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "consent_required"
    assert body["company"] == case.company_id
    assert Referral.objects.count() == 0
    assert ProvisionRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(action="referral.send").exists()


@pytest.mark.parametrize(
    ("change", "field", "message_part"),
    [
        ({"to_organisation": SENDER}, "to_organisation", "自分の組織"),
        ({"to_organisation": "no-such-org"}, "to_organisation", "組織コード"),
        ({"reason": "   "}, "reason", "紹介理由"),
        ({"topics": []}, "topics", "相談分野"),
        ({"topics": ["astrology"]}, "topics", None),
        ({"case": 999999}, "case", "案件"),
        ({"contacts": [999999]}, "contacts", "担当者"),
    ],
)
def test_bad_referral_input_is_a_400_naming_the_field(
    api, network, sender, case, change, field, message_part
):
    consent_for(case, network, RECEIVER)
    body = {
        "case": case.pk,
        "to_organisation": RECEIVER,
        "reason": "助言",
        "topics": ["patent"],
    }
    body.update(change)

    response = post(api(sender), "/api/v1/referrals/", body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    if message_part:
        assert message_part in response.json()[field][0]
    assert Referral.objects.count() == 0


def test_a_case_the_sender_cannot_see_cannot_be_referred(api, network, case):
    consent_for(case, network, RECEIVER)
    stranger = make_actor(THIRD, "window_staff")

    response = post(
        api(stranger),
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_organisation": RECEIVER,
            "reason": "助言",
            "topics": ["patent"],
        },
    )

    assert response.status_code == 400
    assert response.json() == {"case": ["案件が見つかりません。"]}
    with pytest.raises(NotVisible):
        send(stranger, case, network)


def test_a_second_open_referral_to_the_same_organisation_is_refused(
    network, sender, case
):
    consent_for(case, network, RECEIVER)
    first = send(sender, case, network)

    with pytest.raises(Conflict) as refused:
        send(sender, case, network)

    assert refused.value.code == "already_referred"
    assert refused.value.extra["referral"] == first.pk
    # Once the first one is closed, a new referral may go out.
    referral_cancel(actor=sender, referral=first)
    assert send(sender, case, network).status == "sent"


def test_referring_back_to_the_owning_organisation_or_a_closed_case_is_refused(
    api, network, sender, receiver, case
):
    consent_for(case, network, scope="network")
    referral = send(sender, case, network)
    referral_accept(actor=receiver, referral=referral)

    back = post(
        api(receiver),
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_organisation": SENDER,
            "reason": "戻す",
            "topics": ["patent"],
        },
    )
    assert back.status_code == 400
    assert "to_organisation" in back.json()

    case.status = "closed"
    case.closed_on = case.opened_on
    case.save()
    closed = post(
        api(sender),
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_organisation": "jpaa-kanto",
            "reason": "再紹介",
            "topics": ["patent"],
        },
    )
    assert closed.status_code == 400
    assert "case" in closed.json()


def test_a_receiver_refers_on_only_once_it_has_accepted(
    network, sender, receiver, case
):
    consent_for(case, network, scope="network")
    first = send(sender, case, network)

    # While the referral is only sent, the receiver reads and answers it:
    # it may not refer the case on (DESIGN.md "Who may change what" rule 1).
    with pytest.raises(PermissionDenied) as refused:
        send(receiver, case, network, to="jpaa-kanto")
    assert refused.value.code == "not_permitted"
    assert Referral.objects.filter(from_organisation__code=RECEIVER).count() == 0

    referral_accept(actor=receiver, referral=first)
    onward = send(receiver, case, network, to="jpaa-kanto")

    assert onward.from_organisation.code == RECEIVER
    assert set(
        ReferralTopic.objects.filter(referral=onward).values_list("topic", flat=True)
    ) == {"patent"}


# --- Transitions ------------------------------------------------------------

LEGAL = [
    ("sent", "accept", "receiver", "accepted"),
    ("sent", "decline", "receiver", "declined"),
    ("accepted", "complete", "receiver", "completed"),
    ("sent", "cancel", "sender", "cancelled"),
    ("accepted", "cancel", "sender", "cancelled"),
]

ACTIONS = ("accept", "decline", "complete", "cancel")
ILLEGAL = [
    ("sent", "complete"),
    ("accepted", "accept"),
    ("accepted", "decline"),
    *[
        (status, action)
        for status in ("declined", "completed", "cancelled", "expired")
        for action in ACTIONS
    ],
]


def body_for(action):
    return (
        {"outcome_note": "出願しました"} if action == "complete" else {"note": "メモ"}
    )


def referral_in(status, network, sender, case):
    return ReferralFactory(
        case=case,
        to_organisation=network[RECEIVER],
        sent_by=sender.user,
        status=status,
        consent=consent_for(case, network, scope="network"),
    )


@pytest.mark.parametrize(("start", "action", "who", "end"), LEGAL)
def test_each_legal_transition_is_timestamped_with_its_actor(
    api, network, sender, receiver, case, start, action, who, end
):
    referral = referral_in(start, network, sender, case)
    actor = receiver if who == "receiver" else sender
    before = timezone.now()

    response = post(
        api(actor), f"/api/v1/referrals/{referral.pk}/{action}/", body_for(action)
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == end
    referral.refresh_from_db()
    assert referral.status == end
    if action in ("accept", "decline"):
        assert referral.answered_by == actor.user
        assert referral.answered_at >= before
        assert referral.answer_note == "メモ"
    elif action == "complete":
        assert referral.completed_at >= before
        assert referral.outcome_note == "出願しました"
        assert response.json()["completed_by"] == actor.user.pk
    else:
        assert referral.closed_by == actor.user
        assert referral.closed_at >= before
    event = AuditEvent.objects.get(
        action=f"referral.{action}", object_id=str(referral.pk)
    )
    assert event.actor == actor.user
    assert event.organisation == actor.organisation


@pytest.mark.parametrize(("start", "action"), ILLEGAL)
def test_every_illegal_transition_is_a_409_naming_the_current_status(
    api, network, sender, receiver, case, start, action
):
    referral = referral_in(start, network, sender, case)
    actor = sender if action == "cancel" else receiver

    response = post(
        api(actor), f"/api/v1/referrals/{referral.pk}/{action}/", body_for(action)
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["status"] == start
    assert f"「{ReferralStatus(start).label}」" in body["detail"]
    referral.refresh_from_db()
    assert referral.status == start
    assert not AuditEvent.objects.filter(action=f"referral.{action}").exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    "start", ["accepted", "declined", "completed", "cancelled", "expired"]
)
def test_only_a_sent_referral_expires(network, sender, case, start):
    referral = referral_in(start, network, sender, case)

    with pytest.raises(Conflict) as refused:
        referral_expire(referral=referral)

    assert refused.value.code == "invalid_transition"
    referral.refresh_from_db()
    assert referral.status == start


def test_expiry_is_a_system_transition_that_tells_the_sender(
    network, sender, case, django_capture_on_commit_callbacks
):
    referral = referral_in("sent", network, sender, case)
    now = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        referral_expire(referral=referral, now=now)

    referral.refresh_from_db()
    assert referral.status == "expired"
    assert referral.closed_at == now
    assert referral.closed_by is None
    event = AuditEvent.objects.get(action="referral.expire")
    assert event.actor is None
    assert Notification.objects.get().recipient == sender.user
    assert mail.outbox[0].subject == "[知財経営支援 CRM] 紹介が回答期限切れになりました"


def test_complete_needs_an_outcome_note(api, network, sender, receiver, case):
    referral = referral_in("accepted", network, sender, case)

    for body in ({}, {"outcome_note": "  "}):
        response = post(
            api(receiver), f"/api/v1/referrals/{referral.pk}/complete/", body
        )
        assert response.status_code == 400
        assert "outcome_note" in response.json()
    referral.refresh_from_db()
    assert referral.status == "accepted"


class TestWhoMayAnswer:
    """Receivers answer, senders cancel; others who see it 403, the rest 404."""

    @pytest.fixture
    def referral(self, network, sender, case):
        return referral_in("sent", network, sender, case)

    @pytest.mark.parametrize("action", ["accept", "decline"])
    def test_the_sender_cannot_answer_its_own_referral(
        self, api, sender, referral, action
    ):
        response = post(api(sender), f"/api/v1/referrals/{referral.pk}/{action}/")

        assert response.status_code == 403
        assert response.json()["code"] == "not_permitted"

    def test_a_hub_coordinator_who_sees_the_case_cannot_answer(
        self, api, hub_coordinator, referral
    ):
        # The network consent of referral_in opens the case to 関東局.
        assert (
            api(hub_coordinator).get(f"/api/v1/referrals/{referral.pk}/").status_code
            == 200
        )
        response = post(
            api(hub_coordinator), f"/api/v1/referrals/{referral.pk}/accept/"
        )

        assert response.status_code == 403

    @pytest.mark.parametrize("action", ACTIONS)
    def test_a_third_organisation_gets_404(self, api, network, referral, action):
        stranger = make_actor(THIRD, "coordinator")

        response = post(
            api(stranger),
            f"/api/v1/referrals/{referral.pk}/{action}/",
            body_for(action),
        )

        assert response.status_code == 404
        with pytest.raises(NotVisible):
            referral_accept(actor=stranger, referral=referral)

    def test_the_receiver_cannot_cancel(self, api, receiver, referral):
        response = post(api(receiver), f"/api/v1/referrals/{referral.pk}/cancel/")

        assert response.status_code == 403
        assert response.json()["code"] == "not_permitted"
        referral.refresh_from_db()
        assert referral.status == "sent"

    def test_an_expert_of_the_receiving_organisation_may_accept(
        self, network, referral
    ):
        expert = make_actor(RECEIVER, "expert", "expert-receiver")

        assert referral_accept(actor=expert, referral=referral).status == (
            "accepted"
        )

    def test_permission_is_checked_before_the_status(self, network, sender, referral):
        referral_cancel(actor=sender, referral=referral)

        with pytest.raises(PermissionDenied):
            referral_accept(actor=sender, referral=referral)


# --- Concurrency --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("second", ["accept", "decline"])
def test_two_receivers_answering_at_once_have_exactly_one_winner(
    network, monkeypatch, second
):
    sender = make_actor(SENDER, "window_staff", "race-sender")
    first_receiver = make_actor(RECEIVER, "coordinator", "race-receiver-1")
    second_receiver = make_actor(RECEIVER, "window_staff", "race-receiver-2")
    case = CaseFactory(organisation=network[SENDER], created_by=sender.user)
    ConsentFactory(company=case.company, scope="network")
    referral = send(sender, case, network)
    # Both threads read the referral as "sent" before either writes: without
    # the conditional UPDATE both would win.
    require_receiver = referral_services._require_receiver

    def slow_require_receiver(actor, referral):
        require_receiver(actor, referral)
        time.sleep(0.3)

    monkeypatch.setattr(referral_services, "_require_receiver", slow_require_receiver)
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def answer(name, actor, action):
        try:
            start.wait(timeout=10)
            service = getattr(referral_services, f"referral_{action}")
            service(actor=actor, referral=Referral.objects.get(pk=referral.pk))
            outcomes[name] = action
        except Conflict as exc:
            outcomes[name] = exc.code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=answer, args=("one", first_receiver, "accept")),
        threading.Thread(target=answer, args=("two", second_receiver, second)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(outcomes) == 2
    winners = [v for v in outcomes.values() if v != "invalid_transition"]
    assert len(winners) == 1, outcomes
    referral.refresh_from_db()
    assert referral.status == {"accept": "accepted", "decline": "declined"}[winners[0]]
    assert (
        AuditEvent.objects.filter(
            action__in=["referral.accept", "referral.decline"],
            object_id=str(referral.pk),
        ).count()
        == 1
    )
    assert (
        Notification.objects.filter(
            kind__in=["referral.accepted", "referral.declined"]
        ).count()
        == 1
    )


# --- Consent withdrawal -------------------------------------------------------


def test_withdrawing_consent_stops_hub_visibility_and_new_referrals_but_not_the_accepted_receiver(
    api, network, sender, receiver, case, hub_coordinator
):
    consent = consent_for(case, network, scope="network")
    referral = send(sender, case, network)
    referral_accept(actor=receiver, referral=referral)
    assert api(hub_coordinator).get(f"/api/v1/cases/{case.pk}/").status_code == 200

    response = post(
        api(sender),
        f"/api/v1/companies/{case.company_id}/consents/{consent.pk}/withdraw/",
    )
    assert response.status_code == 200, response.content

    # The hub no longer sees the case, in detail, list or count.
    assert api(hub_coordinator).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert case.pk not in ids(api(hub_coordinator).get("/api/v1/cases/"))
    assert cases_visible_to(hub_coordinator).count() == 0
    # No new referral may use the withdrawn consent.
    refused = post(
        api(sender),
        "/api/v1/referrals/",
        {
            "case": case.pk,
            "to_organisation": "jpaa-kanto",
            "reason": "助言",
            "topics": ["patent"],
        },
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "consent_required"
    # Data already provided under the accepted referral stays with its recipient.
    assert api(receiver).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert (
        contacts_visible_to(receiver).filter(company=case.company).count()
        == 1
    )
    # … and the loop can still be closed.
    done = post(
        api(receiver),
        f"/api/v1/referrals/{referral.pk}/complete/",
        {"outcome_note": "助言済み"},
    )
    assert done.status_code == 200
    assert api(receiver).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_a_sent_referral_survives_withdrawal_until_it_is_answered(
    network, sender, receiver, case
):
    consent = consent_for(case, network, RECEIVER)
    referral = send(sender, case, network)
    consent_withdraw(actor=sender, consent=consent)

    # The provision already happened; the receiver may still answer it.
    assert (
        referral_accept(actor=receiver, referral=referral).status == "accepted"
    )


# --- Lists and confidential cases -------------------------------------------


def test_referral_list_filters_by_direction_and_status(
    api, network, sender, receiver, case
):
    # Listed organisations only: a network consent would open the case to
    # jpaa-kanto as the hub covering 東京都.
    consent_for(case, network, RECEIVER, "jpaa-kanto")
    out_sent = send(sender, case, network)
    out_declined = send(sender, case, network, to="jpaa-kanto")
    jpaa = make_actor("jpaa-kanto", "coordinator")
    referral_decline(actor=jpaa, referral=out_declined, note="対応できません")
    incoming = ReferralFactory(
        case=CaseFactory(organisation=network["jpaa-kanto"]),
        from_organisation=network["jpaa-kanto"],
        to_organisation=network[SENDER],
    )
    client = api(sender)

    assert ids(client.get("/api/v1/referrals/", {"direction": "out"})) == [
        out_declined.pk,
        out_sent.pk,
    ]
    assert ids(client.get("/api/v1/referrals/", {"direction": "in"})) == [incoming.pk]
    assert ids(
        client.get("/api/v1/referrals/", {"direction": "out", "status": "declined"})
    ) == [out_declined.pk]
    assert ids(client.get("/api/v1/referrals/", {"status": "sent"})) == [
        incoming.pk,
        out_sent.pk,
    ]
    assert (
        client.get("/api/v1/referrals/", {"direction": "sideways"}).status_code == 400
    )
    # The declining organisation keeps its record but loses the case.
    assert ids(api(jpaa).get("/api/v1/referrals/", {"direction": "in"})) == [
        out_declined.pk
    ]
    assert api(jpaa).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_overdue_referrals_are_flagged_and_filterable(
    api, network, sender, receiver, case
):
    consent_for(case, network, scope="network")
    late = send(sender, case, network)
    Referral.objects.filter(pk=late.pk).update(
        respond_by=timezone.localdate() - dt.timedelta(days=1)
    )
    on_time = send(sender, case, network, to="jpaa-kanto")

    body = api(receiver).get(f"/api/v1/referrals/{late.pk}/").json()
    assert body["is_overdue"] is True
    assert ids(api(sender).get("/api/v1/referrals/", {"overdue": "true"})) == [late.pk]
    assert ids(api(sender).get("/api/v1/referrals/", {"overdue": "false"})) == [
        on_time.pk
    ]


def test_a_confidential_case_is_seen_by_the_receiver_but_not_by_hubs_or_unassigned_colleagues(
    api, network, sender, receiver, case, hub_coordinator
):
    case.is_confidential = True
    case.save()
    consent_for(case, network, scope="network")
    referral = send(sender, case, network, topics=["trade_secret"])
    colleague = make_actor(SENDER, "window_staff", "yorozu13-colleague")

    assert api(receiver).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert api(hub_coordinator).get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert (
        api(hub_coordinator).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    )
    assert api(colleague).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert ids(api(colleague).get("/api/v1/referrals/")) == []


# --- Visibility matrix --------------------------------------------------------

ROLES = ("window_staff", "coordinator", "manager", "org_admin", "expert")
PHASES = ("before", "sent", "accepted", "completed", "declined", "cancelled", "expired")
# While a referral is sent/accepted/completed its case is visible to every
# role of the receiving organisation (DESIGN.md rule 3); the receiver's
# referral record stays in its inbox in every status; a third organisation
# sees nothing at any time.
CASE_VISIBLE_PHASES = {"sent", "accepted", "completed"}
MATRIX = [
    (org, role, phase)
    for org in ("receiving", "third")
    for role in ROLES
    for phase in PHASES
]


def bring_to(phase, *, network, sender, answerer, case):
    if phase == "before":
        return None
    referral = send(sender, case, network)
    if phase in ("accepted", "completed"):
        referral_accept(actor=answerer, referral=referral)
    if phase == "completed":
        referral_complete(
            actor=answerer, referral=referral, outcome_note="完了"
        )
    if phase == "declined":
        referral_decline(actor=answerer, referral=referral)
    if phase == "cancelled":
        referral_cancel(actor=sender, referral=referral)
    if phase == "expired":
        referral_expire(referral=referral)
    return referral


@pytest.mark.parametrize(("org", "role", "phase"), MATRIX)
def test_visibility_matrix(api, network, org, role, phase):
    sender = make_actor(SENDER, "window_staff", "matrix-sender")
    answerer = make_actor(RECEIVER, "coordinator", "matrix-answerer")
    case = CaseFactory(
        organisation=network[SENDER],
        created_by=sender.user,
        assignee=sender.user,
        company__name="株式会社マトリクス精機",
    )
    consultation = ConsultationFactory(case=case, author=sender.user)
    ContactFactory(company=case.company, organisation=network[SENDER])
    consent_for(case, network, RECEIVER)
    referral = bring_to(
        phase, network=network, sender=sender, answerer=answerer, case=case
    )
    viewer = make_actor(
        RECEIVER if org == "receiving" else THIRD, role, f"viewer-{role}"
    )
    client = api(viewer)
    sees_case = org == "receiving" and phase in CASE_VISIBLE_PHASES
    sees_referral = org == "receiving" and referral is not None

    # list, detail
    assert (case.pk in ids(client.get("/api/v1/cases/"))) is sees_case
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == (
        200 if sees_case else 404
    )
    assert (
        consultation.pk in ids(client.get("/api/v1/consultations/", {"case": case.pk}))
    ) is sees_case
    # search: the company is public master data; its private fields are not
    rows = client.get("/api/v1/companies/", {"q": "マトリクス精機"}).json()["results"]
    assert [r["id"] for r in rows] == [case.company_id]
    assert rows[0]["has_private_access"] is sees_case
    assert ("employees" in rows[0]) is sees_case
    # counts
    assert cases_visible_to(viewer).filter(company=case.company).count() == (
        1 if sees_case else 0
    )
    assert consultations_visible_to(viewer).filter(
        company=case.company
    ).count() == (1 if sees_case else 0)
    assert contacts_visible_to(viewer).filter(
        company=case.company
    ).count() == (1 if sees_case else 0)
    # the referral record
    if referral is not None:
        assert (referral.pk in ids(client.get("/api/v1/referrals/"))) is sees_referral
        assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == (
            200 if sees_referral else 404
        )
    assert ids(client.get("/api/v1/referrals/", {"direction": "in"})) == (
        [referral.pk] if sees_referral else []
    )
    # statistics (rule 6): aggregates of the caller's own reach. The sender's
    # consultation never counts for the receiving or a third organisation;
    # the referral counts for the receiver, in its current status.
    fy = consultation.fiscal_year
    stats = client.get("/api/v1/statistics/consultations/", {"fiscal_year": fy})
    if role == "expert":
        assert stats.status_code == 403
        return
    assert stats.status_code == 200
    assert stats.json()["totals"]["consultations"] == 0
    counted = client.get("/api/v1/statistics/referrals/", {"fiscal_year": fy}).json()
    assert counted["totals"]["referrals"] == (1 if sees_referral else 0)
    if sees_referral:
        referral.refresh_from_db()
        assert counted["totals"][referral.status] == 1
