"""The admin is not a second write path around the rules (DESIGN.md "Who may change what")."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import FollowUp, ProvisionRecord
from crm.services.consents import consent_record
from crm.services.consultations import consultation_create
from crm.services.referrals import referral_send
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import CompanyFactory


@pytest.fixture
def referral(network):
    owner = make_actor(ORG_A, "window_staff")
    company = CompanyFactory(registered_by=owner.organisation)
    consent_record(
        actor=owner,
        company=company,
        scope="network",
        obtained_on=timezone.localdate(),
        method="written",
    )
    consultation = consultation_create(
        actor=owner,
        company=company,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary="相談",
        follow_up_on=timezone.localdate() + dt.timedelta(days=3),
    )
    return referral_send(
        actor=owner,
        case=consultation.case,
        to_organisation=Organisation.objects.get(code=ORG_B),
        reason="紹介理由",
        topics=["patent"],
    )


@pytest.fixture
def admin_client(django_user_model):
    user = django_user_model.objects.create_superuser(
        "root", "root@example.invalid", "pw"
    )
    client = Client()
    client.force_login(user)
    return client


def test_a_referrals_status_cannot_be_changed_in_the_admin(admin_client, referral):
    url = reverse("admin:crm_referral_change", args=[referral.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="status"' not in page
    assert 'name="reason"' in page

    admin_client.post(
        url,
        {
            "reason": "理由を訂正",
            "status": "completed",
            "answer_note": "",
            "outcome_note": "",
            "topics-TOTAL_FORMS": "0",
            "topics-INITIAL_FORMS": "0",
        },
    )

    referral.refresh_from_db()
    assert referral.status == "sent"


def test_referrals_are_not_added_nor_provision_records_changed_in_the_admin(
    admin_client, referral
):
    assert admin_client.get(reverse("admin:crm_referral_add")).status_code == 403
    record = ProvisionRecord.objects.get(referral=referral)
    delete = admin_client.post(
        reverse("admin:crm_provisionrecord_delete", args=[record.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert ProvisionRecord.objects.filter(pk=record.pk).exists()


def test_a_follow_up_is_not_completed_in_the_admin(admin_client, referral):
    follow_up = FollowUp.objects.get(case=referral.case)
    page = admin_client.get(
        reverse("admin:crm_followup_change", args=[follow_up.pk])
    ).content.decode()
    assert 'name="status"' not in page
