"""consultation_log_with_new_company: register the company, then log, in one transaction.

The composition the web consultation form uses for a company not registered
yet (STYLE.md §1 "A rule has one home"): a service, so the API gets the
same transaction, and a refused step leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.models import AuditEvent, Case, Company, Consultation, FollowUp
from crm.services.consultations import (
    CompanyNotRegistered,
    consultation_log_with_new_company,
)
from support_network.errors import Conflict, ValidationFailed
from tests.crm.factories import CompanyFactory

NEW_COMPANY = {
    "name": "株式会社あおば製作所",
    "name_kana": "アオバセイサクショ",
    "kind": "corporation",
    "prefecture": "13",
    "industry": "E",
    "employees": 30,
}


def log(actor, *, company_fields=None, **overrides):
    values = {
        "occurred_at": timezone.now() - dt.timedelta(hours=1),
        "channel": "visit",
        "duration_minutes": 60,
        "topics": ["patent"],
        "summary": "特許出願の相談",
        "follow_up_on": timezone.localdate() + dt.timedelta(days=7),
    }
    return consultation_log_with_new_company(
        actor=actor,
        company_fields=company_fields or NEW_COMPANY,
        **{**values, **overrides},
    )


def test_it_registers_the_company_and_logs_its_first_consultation(staff_a):
    # given a company nobody registered
    assert not Company.objects.filter(name=NEW_COMPANY["name"]).exists()

    # when it is registered and its consultation logged in one call
    consultation = log(staff_a)

    # then the company, its case, the consultation and the follow-up exist
    company = Company.objects.get(name=NEW_COMPANY["name"])
    assert company.registered_by == staff_a.organisation
    assert consultation.company == company
    assert consultation.is_company_first
    assert consultation.case.company == company
    assert FollowUp.objects.filter(consultation=consultation).exists()


def test_a_refused_consultation_leaves_no_company_behind(staff_a):
    audits_before = AuditEvent.objects.count()

    # when the company is registered, then its consultation is refused
    with pytest.raises(ValidationFailed) as refused:
        log(staff_a, summary="   ")

    # then nothing is written: no company, no case, no audit event
    assert refused.value.field == "summary"
    assert not Company.objects.filter(name=NEW_COMPANY["name"]).exists()
    assert not Case.objects.filter(company__name=NEW_COMPANY["name"]).exists()
    assert not Consultation.objects.filter(company__name=NEW_COMPANY["name"]).exists()
    assert AuditEvent.objects.count() == audits_before


def test_a_refused_registration_says_so_and_logs_nothing(staff_a, network):
    # given a company with this 法人番号 registered already
    existing = CompanyFactory(corporate_number="1180301018771")
    consultations_before = Consultation.objects.count()

    with pytest.raises(CompanyNotRegistered) as refused:
        log(
            staff_a, company_fields={**NEW_COMPANY, "corporate_number": "1180301018771"}
        )

    # company_create's own error, code and status, for forms and the API
    assert isinstance(refused.value.error, Conflict)
    assert refused.value.code == "duplicate_company"
    assert refused.value.status_code == 409
    assert refused.value.extra.get("existing") == existing.pk
    assert Consultation.objects.count() == consultations_before
    assert not Company.objects.filter(name=NEW_COMPANY["name"]).exists()
