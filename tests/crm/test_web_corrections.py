"""Corrections in the web UI (issue 17): 訂正 and 取消 of consultations and outcomes,
rescheduling a follow-up.

A record is changed only by the organisation that wrote it: its author (a
follow-up also its assignee) or that organisation's coordinators, managers and
org admins (DESIGN.md "Who may change what" rule 3). Others see no button; a
crafted request gets the 403 page and changes nothing. Statistics facts follow
an edit and a void in the same transaction.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.choices import TOPIC_NUMBERS
from crm.models import AuditEvent, Consultation, ConsultationFact, FollowUp, Outcome
from crm.services.cases import outcome_record
from crm.services.consultations import consultation_create
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory

pytestmark = pytest.mark.django_db


def client_for(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.fixture
def company(network):
    return CompanyFactory(name="株式会社訂正画面")


@pytest.fixture
def coordinator_a(network):
    return make_actor(ORG_A, "coordinator", username="corr-coord-a")


def log(actor, company, **extra) -> Consultation:
    return consultation_create(
        actor=actor,
        company=company,
        case=extra.pop("case", None),
        occurred_at=timezone.now() - dt.timedelta(days=2),
        channel="visit",
        duration_minutes=30,
        topics=extra.pop("topics", ["patent"]),
        summary="特許出願の相談",
        **extra,
    )


def edit_post(consultation: Consultation, **overrides) -> dict:
    local = timezone.localtime(consultation.occurred_at)
    data = {
        "occurred_on": local.date().isoformat(),
        "occurred_time": local.strftime("%H:%M"),
        "channel": consultation.channel,
        "duration_minutes": str(consultation.duration_minutes),
        "topics": [t.topic for t in consultation.topics.all()],
        "ip_types": [t.ip_type for t in consultation.ip_types.all()],
        "summary": consultation.summary,
        "advice": consultation.advice,
        "next_action": consultation.next_action,
    }
    data.update(overrides)
    return data


def facts(consultation: Consultation) -> list[tuple[int, int]]:
    return sorted(
        ConsultationFact.objects.filter(consultation_id=consultation.pk).values_list(
            "topic_no", "minutes"
        )
    )


def case_page(actor, case_id: int) -> str:
    response = client_for(actor).get(reverse("crm:case-detail", args=[case_id]))
    assert response.status_code == 200
    return response.content.decode()


# --- consultations ------------------------------------------------------------


def test_the_author_corrects_a_consultation_and_the_facts_follow(staff_a, company):
    consultation = log(staff_a, company)
    assert facts(consultation) == [(TOPIC_NUMBERS["patent"], 30)]
    edit_url = reverse("crm:consultation-edit", args=[consultation.pk])
    assert edit_url in case_page(staff_a, consultation.case_id)

    form = client_for(staff_a).get(edit_url).content.decode()
    assert "特許出願の相談</textarea>" in form  # prefilled
    assert 'name="topics" value="patent"' in form and "checked" in form

    response = client_for(staff_a).post(
        edit_url,
        edit_post(
            consultation,
            topics=["trademark", "design"],
            duration_minutes="45",
            summary="商標と意匠の相談",
        ),
        follow=True,
    )

    assert response.redirect_chain[-1][0].endswith(
        f"/cases/{consultation.case_id}/#consultation-{consultation.pk}"
    )
    assert "相談記録を訂正しました。" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.summary == "商標と意匠の相談"
    assert consultation.duration_minutes == 45
    assert facts(consultation) == sorted(
        [(TOPIC_NUMBERS["trademark"], 45), (TOPIC_NUMBERS["design"], 45)]
    )
    event = AuditEvent.objects.get(action="consultation.update")
    assert event.data["changes"]["duration_minutes"] == [30, 45]
    # The time was not touched: it is not reported as changed.
    assert "occurred_at" not in event.data["changes"]


def test_a_refused_correction_keeps_what_was_typed_beside_the_field(staff_a, company):
    consultation = log(staff_a, company)
    url = reverse("crm:consultation-edit", args=[consultation.pk])
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

    response = client_for(staff_a).post(
        url, edit_post(consultation, occurred_on=tomorrow, summary="書き直した内容")
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_occurred_on_error">相談日時に未来の日付は入力できません。' in body
    assert "書き直した内容</textarea>" in body
    consultation.refresh_from_db()
    assert consultation.summary == "特許出願の相談"
    assert not AuditEvent.objects.filter(action="consultation.update").exists()


def test_the_author_voids_a_consultation_with_a_reason(staff_a, company):
    first = log(staff_a, company)
    second = consultation_create(
        actor=staff_a,
        company=company,
        case=first.case,
        occurred_at=timezone.now() - dt.timedelta(days=1),
        channel="phone",
        duration_minutes=15,
        topics=["trademark"],
        summary="二回目",
    )
    void_url = reverse("crm:consultation-void", args=[first.pk])
    assert void_url in case_page(staff_a, first.case_id)
    assert "取消の理由" in client_for(staff_a).get(void_url).content.decode()

    no_reason = client_for(staff_a).post(void_url, {"reason": " "})
    assert no_reason.status_code == 400
    assert "取消の理由を入力してください。" in no_reason.content.decode()
    assert Consultation.objects.filter(pk=first.pk).exists()

    response = client_for(staff_a).post(
        void_url, {"reason": "別の企業に入力した"}, follow=True
    )

    assert response.redirect_chain[-1][0].endswith(f"/cases/{first.case_id}/#timeline")
    body = response.content.decode()
    assert "を取り消しました。" in body
    assert f'id="consultation-{first.pk}"' not in body
    assert f'id="consultation-{second.pk}"' in body
    assert not Consultation.objects.filter(pk=first.pk).exists()
    assert not ConsultationFact.objects.filter(consultation_id=first.pk).exists()
    second.refresh_from_db()
    assert second.is_company_first  # the 初回 mark passed on
    event = AuditEvent.objects.get(action="consultation.void")
    assert event.data["reason"] == "別の企業に入力した"
    assert event.data["values"]["summary"] == "特許出願の相談"


def test_a_coordinator_corrects_a_colleagues_consultation(
    staff_a, coordinator_a, company
):
    consultation = log(staff_a, company)
    url = reverse("crm:consultation-edit", args=[consultation.pk])
    assert url in case_page(coordinator_a, consultation.case_id)
    client_for(coordinator_a).post(url, edit_post(consultation, channel="phone"))
    consultation.refresh_from_db()
    assert consultation.channel == "phone"


def test_a_colleague_window_staff_and_a_hub_may_not_correct_or_void(
    staff_a, staff_a2, hub_coordinator, staff_b, company
):
    consultation = log(staff_a, company)
    ConsentFactory(company=company)  # the hub sees the case through consent
    edit_url = reverse("crm:consultation-edit", args=[consultation.pk])
    void_url = reverse("crm:consultation-void", args=[consultation.pk])
    facts_before = facts(consultation)

    for reader in (staff_a2, hub_coordinator):
        page = case_page(reader, consultation.case_id)
        assert edit_url not in page and void_url not in page
        client = client_for(reader)
        assert client.get(edit_url).status_code == 403
        assert client.get(void_url).status_code == 403
        posted = client.post(edit_url, edit_post(consultation, summary="改ざん"))
        assert posted.status_code == 403
        assert client.post(void_url, {"reason": "消したい"}).status_code == 403
    # Another organisation does not even see it.
    assert client_for(staff_b).get(edit_url).status_code == 404

    consultation.refresh_from_db()
    assert consultation.summary == "特許出願の相談"
    assert facts(consultation) == facts_before
    assert not AuditEvent.objects.filter(
        action__in=["consultation.update", "consultation.void"]
    ).exists()


# --- outcomes -----------------------------------------------------------------


def test_the_recorder_corrects_and_voids_an_outcome(staff_a, staff_a2, company):
    case = log(staff_a, company).case
    outcome = outcome_record(
        actor=staff_a,
        case=case,
        kind="filing",
        occurred_on=timezone.localdate(),
        reference="特願2026-000001",
        ip_type="patent",
    )
    edit_url = reverse("crm:outcome-edit", args=[outcome.pk])
    void_url = reverse("crm:outcome-void", args=[outcome.pk])
    page = case_page(staff_a, case.pk)
    assert edit_url in page and void_url in page
    assert edit_url not in case_page(staff_a2, case.pk)
    assert client_for(staff_a2).post(void_url, {"reason": "x"}).status_code == 403

    form = client_for(staff_a).get(edit_url).content.decode()
    assert 'value="特願2026-000001"' in form
    client_for(staff_a).post(
        edit_url,
        {
            "kind": "filing",
            "occurred_on": timezone.localdate().isoformat(),
            "ip_type": "patent",
            "reference": "特願2026-000002",
            "amount_yen": "",
            "note": "番号の誤記を訂正",
        },
    )
    outcome.refresh_from_db()
    assert outcome.reference == "特願2026-000002"
    event = AuditEvent.objects.get(action="outcome.update")
    assert event.data["changes"]["reference"] == ["特願2026-000001", "特願2026-000002"]

    response = client_for(staff_a).post(void_url, {"reason": "二重登録"}, follow=True)
    assert "成果を取り消しました。" in response.content.decode()
    assert not Outcome.objects.filter(pk=outcome.pk).exists()
    assert AuditEvent.objects.get(action="outcome.void").data["reason"] == "二重登録"


# --- follow-ups -----------------------------------------------------------------


def test_a_follow_up_is_rescheduled_to_a_colleague(staff_a, staff_a2, staff_b, company):
    today = timezone.localdate()
    log(staff_a, company, follow_up_on=today + dt.timedelta(days=3))
    follow_up = FollowUp.objects.get()
    follow_up.reminded_count = 2
    follow_up.save()
    url = reverse("crm:follow-up-edit", args=[follow_up.pk])
    outsider = make_actor(ORG_A, "window_staff", username="corr-third-staff")
    assert url in case_page(staff_a, follow_up.case_id)
    assert url not in case_page(outsider, follow_up.case_id)
    assert client_for(outsider).post(url, {"note": "x"}).status_code == 403

    page = client_for(staff_a).get(url).content.decode()
    assert f'<option value="{staff_a2.user.pk}"' in page
    assert f'<option value="{staff_b.user.pk}"' not in page  # not a member
    new_due = today + dt.timedelta(days=10)
    wrong = client_for(staff_a).post(
        url,
        {
            "due_on": new_due.isoformat(),
            "note": "先方の都合で延期",
            "assignee": staff_b.user.pk,
        },
    )
    assert wrong.status_code == 400
    assert 'id="id_assignee_error"' in wrong.content.decode()
    assert FollowUp.objects.get().due_on == today + dt.timedelta(days=3)

    client_for(staff_a).post(
        url,
        {
            "due_on": new_due.isoformat(),
            "note": "先方の都合で延期",
            "assignee": staff_a2.user.pk,
        },
    )
    follow_up.refresh_from_db()
    assert follow_up.due_on == new_due
    assert follow_up.note == "先方の都合で延期"
    assert follow_up.assignee == staff_a2.user
    assert follow_up.reminded_count == 0  # reminders start afresh
    changes = AuditEvent.objects.get(action="follow_up.update").data["changes"]
    assert changes["assignee"] == [staff_a.user.pk, staff_a2.user.pk]
