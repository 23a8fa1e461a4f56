"""referral_send_with_consent: record the consent, then send, in one transaction.

The composition the web refer page uses when the company's consent is
missing (STYLE.md §1 "A rule has one home"): a service, so the API gets the
same transaction, and a refused step leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import AuditEvent, Consent, ProvisionRecord, Referral
from crm.services.consents import ConsentNotRecorded
from crm.services.referrals import (
    referral_send,
    referral_send_with_consent,
)
from support_network.errors import Conflict, ValidationFailed
from tests.conftest import ORG_B
from tests.crm.factories import CaseFactory, ConsentFactory


@pytest.fixture
def case(staff_a):
    return CaseFactory(organisation=staff_a.organisation, created_by=staff_a.user)


def send(actor, case, network, **overrides):
    values = {
        "actor": actor,
        "case": case,
        "to_organisation": network[ORG_B],
        "reason": "販路開拓の支援をお願いします",
        "topics": ["branding"],
        "consent_scope": "organisations",
        "consent_obtained_on": timezone.localdate(),
        "consent_method": "written",
    }
    return referral_send_with_consent(**{**values, **overrides})


def test_it_records_the_consent_for_the_receiver_and_sends_with_it(
    staff_a, case, network
):
    # given a company without consent
    assert not Consent.objects.filter(company=case.company).exists()

    # when the consent is recorded and the referral sent in one call
    referral = send(staff_a, case, network)

    # then the consent covers the receiver only and the referral rests on it
    consent = Consent.objects.get(company=case.company)
    assert consent.scope == "organisations"
    assert list(consent.organisations.values_list("code", flat=True)) == [ORG_B]
    assert referral.consent == consent
    assert ProvisionRecord.objects.get(referral=referral).consent == consent


def test_a_network_consent_lists_no_organisation(staff_a, case, network):
    referral = send(staff_a, case, network, consent_scope="network")

    assert referral.consent.scope == "network"
    assert not referral.consent.organisations.exists()


def test_a_refused_send_leaves_no_consent_behind(staff_a, case, network):
    # given an open referral of the case to the same receiver
    ConsentFactory(company=case.company, scope="network")
    referral_send(
        actor=staff_a,
        case=case,
        to_organisation=network[ORG_B],
        reason="一度目",
        topics=["branding"],
    )
    consents_before = Consent.objects.filter(company=case.company).count()
    audits_before = AuditEvent.objects.count()

    # when the composition records a consent, then its send is refused
    with pytest.raises(Conflict) as refused:
        send(staff_a, case, network)

    # then nothing of it is written: no consent, no second referral, no audit
    assert refused.value.code == "already_referred"
    assert Consent.objects.filter(company=case.company).count() == consents_before
    assert Referral.objects.filter(case=case).count() == 1
    assert AuditEvent.objects.count() == audits_before


def test_bad_send_input_after_the_consent_rolls_the_consent_back(
    staff_a, case, network
):
    with pytest.raises(ValidationFailed) as refused:
        send(staff_a, case, network, reason="   ")

    assert refused.value.field == "reason"
    assert not Consent.objects.filter(company=case.company).exists()
    assert not Referral.objects.filter(case=case).exists()


def test_a_refused_consent_says_so_and_sends_nothing(staff_a, case, network):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)

    with pytest.raises(ConsentNotRecorded) as refused:
        send(staff_a, case, network, consent_obtained_on=tomorrow)

    # the consent service's own error, field and status, for forms and the API
    assert refused.value.field == "obtained_on"
    assert refused.value.status_code == 400
    assert isinstance(refused.value.error, ValidationFailed)
    assert "未来の日付" in refused.value.detail
    assert not Consent.objects.filter(company=case.company).exists()
    assert not Referral.objects.filter(case=case).exists()
