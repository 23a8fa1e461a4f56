"""The web UI of referrals: refer a case (with consent on the spot), inbox/outbox,
answering from the case page, the coordinator board and notifications."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import (
    AuditEvent,
    Consent,
    ConsultationTopic,
    FollowUp,
    Notification,
    ProvisionRecord,
    Referral,
)
from crm.services.referrals import referral_send
from tests.conftest import make_actor
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsentFactory,
    ConsultationFactory,
)

pytestmark = pytest.mark.django_db

ORG_B = "yorozu-27"


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def page(response) -> str:
    return response.content.decode()


def case_with_topics(actor, *topics, company=None):
    case = CaseFactory(
        company=company or CompanyFactory(name="株式会社紹介元テスト"),
        created_by=actor.user,
        assignee=actor.user,
    )
    consultation = ConsultationFactory(case=case)
    for topic in topics:
        ConsultationTopic.objects.create(consultation=consultation, topic=topic)
    return case


def send_post(**overrides):
    data = {
        "action": "send",
        "to_organisation": ORG_B,
        "topics": ["branding"],
        "reason": "販路開拓の支援をお願いします",
    }
    data.update(overrides)
    return data


def referral_to_b(sender, network, *, consent=True, **case_kwargs):
    case = case_with_topics(sender, "branding", **case_kwargs)
    if consent:
        ConsentFactory(company=case.company, scope="network")
    return referral_send(
        actor=sender,
        case=case,
        to_organisation=network[ORG_B],
        reason="販路開拓の支援をお願いします",
        topics=["branding"],
    )


@pytest.fixture
def third_staff(network):
    """Window staff of an organisation the referrals never involve."""
    return make_actor("inpit-window-27", "window_staff", username="third-staff")


# --- Refer a case ---------------------------------------------------------------


def test_refer_page_suggests_organisations_with_reasons_and_prefills_topics(staff_a):
    case = case_with_topics(staff_a, "trade_secret")

    response = client_for(staff_a).get(reverse("crm:referral-create", args=[case.pk]))
    html = page(response)

    assert response.status_code == 200
    assert "知財戦略エキスパート 営業秘密支援窓口" in html
    assert "営業秘密の専門窓口" in html  # the one-line reason
    assert re.search(r'value="trade_secret"[^>]*checked', html)
    assert not re.search(r'value="patent"[^>]*checked', html)
    # The suggestion comes first in the select, before the plain list.
    assert html.index("おすすめ") < html.index("その他の組織")
    # The case's own organisation is never offered.
    assert 'value="inpit-window-13"' not in html


def test_case_page_has_refer_button(staff_a):
    case = case_with_topics(staff_a, "patent")

    html = page(client_for(staff_a).get(reverse("crm:case-detail", args=[case.pk])))

    assert reverse("crm:referral-create", args=[case.pk]) in html
    assert "他機関へ紹介" in html


def test_send_with_consent_refers_and_notifies_receiver(staff_a, staff_b):
    case = case_with_topics(staff_a, "branding")
    ConsentFactory(company=case.company, scope="network")

    response = client_for(staff_a).post(
        reverse("crm:referral-create", args=[case.pk]), send_post(), follow=True
    )

    referral = Referral.objects.get(case=case)
    assert referral.status == "sent"
    assert referral.to_organisation.code == ORG_B
    assert "へ紹介しました" in page(response)
    assert ProvisionRecord.objects.filter(referral=referral).exists()
    assert Notification.objects.filter(
        recipient=staff_b.user, kind="referral.sent"
    ).exists()


def test_send_without_consent_asks_for_it_keeping_what_was_typed(staff_a):
    case = case_with_topics(staff_a, "branding")
    client = client_for(staff_a)

    response = client.post(
        reverse("crm:referral-create", args=[case.pk]),
        send_post(reason="資金繰りと販路の相談を引き継ぎたい"),
    )
    html = page(response)

    assert response.status_code == 200
    assert "第三者提供の同意" in html
    assert "同意を記録して紹介する" in html
    assert "資金繰りと販路の相談を引き継ぎたい" in html  # reason kept
    assert not Referral.objects.filter(case=case).exists()
    assert not Consent.objects.filter(company=case.company).exists()


def test_inline_consent_records_it_and_sends_without_retyping(staff_a):
    case = case_with_topics(staff_a, "branding")
    today = timezone.localdate()

    response = client_for(staff_a).post(
        reverse("crm:referral-create", args=[case.pk]),
        send_post(
            action="consent_send",
            **{
                "consent-scope": "organisations",
                "consent-obtained_on": today.isoformat(),
                "consent-method": "written",
            },
        ),
    )

    assert response.status_code == 302
    consent = Consent.objects.get(company=case.company)
    assert consent.scope == "organisations"
    assert list(consent.organisations.values_list("code", flat=True)) == [ORG_B]
    referral = Referral.objects.get(case=case)
    assert referral.consent == consent
    assert referral.reason == "販路開拓の支援をお願いします"
    assert list(referral.topics.values_list("topic", flat=True)) == ["branding"]


def test_inline_consent_refused_writes_nothing(staff_a):
    case = case_with_topics(staff_a, "branding")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    response = client_for(staff_a).post(
        reverse("crm:referral-create", args=[case.pk]),
        send_post(
            action="consent_send",
            **{
                "consent-scope": "network",
                "consent-obtained_on": tomorrow.isoformat(),
                "consent-method": "written",
            },
        ),
    )

    assert response.status_code == 400
    assert "未来の日付" in page(response)
    assert not Consent.objects.filter(company=case.company).exists()
    assert not Referral.objects.filter(case=case).exists()


def test_consent_recorded_but_send_refused_rolls_the_consent_back(staff_a, network):
    # An open referral to B exists already: the send fails after the consent.
    case = case_with_topics(staff_a, "branding")
    ConsentFactory(company=case.company, scope="network")
    referral_send(
        actor=staff_a,
        case=case,
        to_organisation=network[ORG_B],
        reason="一度目",
        topics=["branding"],
    )

    response = client_for(staff_a).post(
        reverse("crm:referral-create", args=[case.pk]),
        send_post(
            action="consent_send",
            **{
                "consent-scope": "network",
                "consent-obtained_on": timezone.localdate().isoformat(),
                "consent-method": "verbal",
            },
        ),
    )

    assert response.status_code == 409
    assert "既に" in page(response)
    assert Consent.objects.filter(company=case.company).count() == 1
    assert Referral.objects.filter(case=case).count() == 1


def test_send_errors_are_shown_on_the_fields(staff_a):
    case = case_with_topics(staff_a, "branding")
    ConsentFactory(company=case.company, scope="network")

    response = client_for(staff_a).post(
        reverse("crm:referral-create", args=[case.pk]),
        send_post(reason="", topics=[], to_organisation="inpit-window-13"),
    )
    html = page(response)

    assert response.status_code == 400
    assert html.count('class="error"') >= 3
    assert not Referral.objects.filter(case=case).exists()


def test_refer_page_of_an_invisible_case_is_404(staff_a, third_staff):
    case = case_with_topics(staff_a, "branding")

    response = client_for(third_staff).get(
        reverse("crm:referral-create", args=[case.pk])
    )

    assert response.status_code == 404


# --- Inbox / outbox ---------------------------------------------------------------


def test_inbox_and_outbox_per_organisation(staff_a, staff_b, third_staff, network):
    referral = referral_to_b(staff_a, network)
    inbox = reverse("crm:referral-list")

    b_in = page(client_for(staff_b).get(inbox, {"box": "in"}))
    b_out = page(client_for(staff_b).get(inbox, {"box": "out"}))
    a_in = page(client_for(staff_a).get(inbox, {"box": "in"}))
    a_out = page(client_for(staff_a).get(inbox, {"box": "out"}))
    third_in = page(client_for(third_staff).get(inbox, {"box": "in"}))
    third_out = page(client_for(third_staff).get(inbox, {"box": "out"}))

    name = "株式会社紹介元テスト"
    assert name in b_in and name not in b_out
    assert name in a_out and name not in a_in
    assert name not in third_in and name not in third_out
    assert reverse("crm:case-detail", args=[referral.case_id]) in b_in
    third_case = client_for(third_staff).get(
        reverse("crm:case-detail", args=[referral.case_id])
    )
    assert third_case.status_code == 404


def test_inbox_filters_by_status(staff_a, staff_b, network):
    referral_to_b(staff_a, network)
    inbox = reverse("crm:referral-list")

    sent = page(client_for(staff_b).get(inbox, {"box": "in", "status": "sent"}))
    done = page(client_for(staff_b).get(inbox, {"box": "in", "status": "completed"}))

    assert "株式会社紹介元テスト" in sent
    assert "株式会社紹介元テスト" not in done


def test_inbox_highlights_overdue_and_escalated(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    Referral.objects.filter(pk=referral.pk).update(
        respond_by=timezone.localdate() - dt.timedelta(days=1),
        escalated_at=timezone.now(),
    )

    html = page(client_for(staff_b).get(reverse("crm:referral-list")))

    assert 'class="overdue"' in html
    assert "期限超過" in html
    assert "エスカレーション" in html


# --- Accept / decline / complete / cancel ---------------------------------------


def test_case_page_shows_answer_forms_only_to_the_receiver(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    url = reverse("crm:case-detail", args=[referral.case_id])

    b_html = page(client_for(staff_b).get(url))
    a_html = page(client_for(staff_a).get(url))

    accept = reverse("crm:referral-accept", args=[referral.pk])
    cancel = reverse("crm:referral-cancel", args=[referral.pk])
    assert accept in b_html and cancel not in b_html
    assert cancel in a_html and accept not in a_html


def test_receiver_accepts_then_completes_from_the_case_page(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    client = client_for(staff_b)

    accepted = client.post(
        reverse("crm:referral-accept", args=[referral.pk]),
        {"next": "case"},
        follow=True,
    )
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert "紹介を受け入れました" in page(accepted)
    assert reverse("crm:referral-complete", args=[referral.pk]) in page(accepted)

    completed = client.post(
        reverse("crm:referral-complete", args=[referral.pk]),
        {"next": "case", "outcome_note": "販路開拓セミナーに参加し商談2件"},
        follow=True,
    )
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert referral.outcome_note == "販路開拓セミナーに参加し商談2件"
    assert "結果を紹介元へ報告しました" in page(completed)
    assert Notification.objects.filter(
        recipient=staff_a.user, kind="referral.completed"
    ).exists()


def test_complete_needs_an_outcome_note(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    client = client_for(staff_b)
    client.post(reverse("crm:referral-accept", args=[referral.pk]))

    response = client.post(
        reverse("crm:referral-complete", args=[referral.pk]),
        {"next": "case", "outcome_note": "  "},
        follow=True,
    )

    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert "結果報告を入力してください" in page(response)


def test_sender_cannot_accept_and_sees_why(staff_a, network):
    referral = referral_to_b(staff_a, network)

    response = client_for(staff_a).post(
        reverse("crm:referral-accept", args=[referral.pk]),
        {"next": "case"},
        follow=True,
    )

    referral.refresh_from_db()
    assert referral.status == "sent"
    assert "紹介先の組織の職員だけ" in page(response)


def test_receiver_cannot_cancel(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)

    response = client_for(staff_b).post(
        reverse("crm:referral-cancel", args=[referral.pk]), follow=True
    )

    referral.refresh_from_db()
    assert referral.status == "sent"
    assert "紹介元の組織の職員だけ" in page(response)


def test_sender_cancels_from_the_outbox(staff_a, network):
    referral = referral_to_b(staff_a, network)
    outbox = reverse("crm:referral-list") + "?box=out"

    response = client_for(staff_a).post(
        reverse("crm:referral-cancel", args=[referral.pk]),
        {"next": outbox, "note": "別の窓口で対応"},
    )

    assert response.status_code == 302
    assert response.url == outbox
    referral.refresh_from_db()
    assert referral.status == "cancelled"


def test_decline_from_the_case_page_returns_to_the_inbox(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)

    response = client_for(staff_b).post(
        reverse("crm:referral-decline", args=[referral.pk]),
        {"next": "case", "note": "対応範囲外"},
    )

    referral.refresh_from_db()
    assert referral.status == "declined"
    assert referral.answer_note == "対応範囲外"
    # The receiver no longer sees the case: back to the inbox, not a 404.
    assert response.url.startswith(reverse("crm:referral-list"))
    inbox = page(client_for(staff_b).get(response.url))
    assert "案件は閲覧できません" in inbox


def test_answering_twice_is_a_warning_not_an_error(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    client = client_for(staff_b)
    client.post(reverse("crm:referral-accept", args=[referral.pk]))

    response = client.post(
        reverse("crm:referral-decline", args=[referral.pk]), follow=True
    )

    assert response.status_code == 200
    assert "できません" in page(response)
    referral.refresh_from_db()
    assert referral.status == "accepted"


def test_third_organisation_cannot_act_on_a_referral(staff_a, third_staff, network):
    referral = referral_to_b(staff_a, network)

    response = client_for(third_staff).post(
        reverse("crm:referral-accept", args=[referral.pk])
    )

    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == "sent"


# --- Coordinator board -----------------------------------------------------------


@pytest.fixture
def coordinator_a(network):
    return make_actor("inpit-window-13", "coordinator", username="coordinator-a")


def test_board_lists_open_cases_with_what_needs_attention(
    staff_a, coordinator_a, network
):
    referral = referral_to_b(staff_a, network)
    case = referral.case
    FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff_a.user,
        due_on=timezone.localdate() - dt.timedelta(days=2),
        note="期限切れの確認",
        escalated_at=timezone.now(),
    )
    CaseFactory(title="他組織の案件", organisation=network[ORG_B])
    closed = CaseFactory(title="終わった案件", status="closed")

    html = page(client_for(coordinator_a).get(reverse("crm:board")))

    assert case.title in html
    assert "他組織の案件" not in html
    assert closed.title not in html
    row = html[html.index(f'id="case-{case.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="date">1<' in row  # one overdue follow-up
    assert "<td>1</td>" in row  # one referral waiting for an answer
    assert 'class="tag secret">1<' in row  # one escalated item


def test_board_is_for_coordinators_managers_and_org_admins(staff_a, manager_a):
    assert client_for(staff_a).get(reverse("crm:board")).status_code == 403
    assert client_for(manager_a).get(reverse("crm:board")).status_code == 200
    assert "ボード" not in page(client_for(staff_a).get(reverse("home")))
    assert "ボード" in page(client_for(manager_a).get(reverse("home")))


def test_board_assigns_a_case_audited_and_notified(coordinator_a, staff_a, staff_a2):
    case = case_with_topics(staff_a, "patent")

    response = client_for(coordinator_a).post(
        reverse("crm:case-assign", args=[case.pk]),
        {"assignee": staff_a2.user.pk},
        follow=True,
    )

    case.refresh_from_db()
    assert case.assignee == staff_a2.user
    assert "担当者を" in page(response)
    assert AuditEvent.objects.filter(
        action="case.assign", object_id=str(case.pk)
    ).exists()
    assert Notification.objects.filter(
        recipient=staff_a2.user, kind="case.assigned"
    ).exists()


def test_board_refuses_an_assignee_from_another_organisation(
    coordinator_a, staff_a, staff_b
):
    case = case_with_topics(staff_a, "patent")

    response = client_for(coordinator_a).post(
        reverse("crm:case-assign", args=[case.pk]),
        {"assignee": staff_b.user.pk},
        follow=True,
    )

    case.refresh_from_db()
    assert case.assignee == staff_a.user
    assert "職員から選んでください" in page(response)
    assert not AuditEvent.objects.filter(action="case.assign").exists()


def test_window_staff_cannot_assign(staff_a, staff_a2):
    case = case_with_topics(staff_a, "patent")

    response = client_for(staff_a).post(
        reverse("crm:case-assign", args=[case.pk]),
        {"assignee": staff_a2.user.pk},
        follow=True,
    )

    case.refresh_from_db()
    assert case.assignee == staff_a.user
    assert "割り当てられます" in page(response)


# --- Notifications ---------------------------------------------------------------


def test_notifications_listed_counted_and_marked_read(staff_a, staff_b, network):
    referral = referral_to_b(staff_a, network)
    client = client_for(staff_b)

    html = page(client.get(reverse("crm:notification-list")))
    assert "から紹介が届きました" in html
    assert "通知 (1)" in html
    assert reverse("crm:case-detail", args=[referral.case_id]) in html

    notification = Notification.objects.get(recipient=staff_b.user)
    client.post(reverse("crm:notification-read", args=[notification.pk]))

    notification.refresh_from_db()
    assert notification.read_at is not None
    assert "通知 (0)" in page(client.get(reverse("crm:notification-list")))


def test_notifications_of_someone_else_are_404(staff_a, staff_b, network):
    referral_to_b(staff_a, network)
    notification = Notification.objects.get(recipient=staff_b.user)

    response = client_for(staff_a).post(
        reverse("crm:notification-read", args=[notification.pk])
    )

    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_notifications_read(staff_a, staff_b, network):
    referral_to_b(staff_a, network)
    referral_to_b(staff_a, network, company=CompanyFactory())

    client_for(staff_b).post(reverse("crm:notification-read-all"))

    assert not Notification.objects.filter(
        recipient=staff_b.user, read_at__isnull=True
    ).exists()


def test_hub_coordinator_board_shows_cases_seen_through_the_hub(
    staff_a, hub_coordinator
):
    case = case_with_topics(staff_a, "patent")
    ConsentFactory(company=case.company, scope="network")

    html = page(client_for(hub_coordinator).get(reverse("crm:board")))

    assert case.title in html
    # Only the owning organisation assigns its cases.
    assert reverse("crm:case-assign", args=[case.pk]) not in html


def test_nav_links_referrals_and_notifications(staff_a):
    html = page(client_for(staff_a).get(reverse("home")))

    assert reverse("crm:referral-list") in html
    assert reverse("crm:notification-list") in html
    assert "通知 (0)" in html
