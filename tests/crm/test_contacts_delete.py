"""Removing a contact (担当者): contact_delete and DELETE contacts/{id}/.

Only the organisation that recorded a contact removes it; a hub that sees
the company through consent and any other organisation may not; a contact
named by a consent or a provision record (APPI art. 29) stays, so those
records keep saying who it was; the audit trail keeps the old values.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.models import AuditEvent, Contact, ProvisionRecord
from crm.services.contacts import contact_delete
from support_network.errors import Conflict, NotVisible, PermissionDenied
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import (
    CaseFactory,
    ConsentFactory,
    ContactFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_a(network, staff_a):
    """A case of A (東京都) on a company with a network-wide consent, so the hub sees it."""
    case = CaseFactory(
        organisation=network[ORG_A], created_by=staff_a.user, assignee=staff_a.user
    )
    ConsentFactory(company=case.company, organisation=network[ORG_A])
    return case


@pytest.fixture
def contact(case_a, network):
    return ContactFactory(
        company=case_a.company,
        organisation=network[ORG_A],
        name="田中 花子",
        name_kana="タナカ ハナコ",
        title="知財部長",
        email="hanako@example.co.jp",
        phone="03-1234-5678",
    )


def url(contact) -> str:
    return f"/api/v1/contacts/{contact.pk}/"


def test_the_recording_organisation_deletes_a_contact_and_the_audit_keeps_it(
    api, staff_a2, contact
):
    pk = contact.pk

    response = api(staff_a2).delete(url(contact))

    assert response.status_code == 204, response.content
    assert not Contact.objects.filter(pk=pk).exists()
    event = AuditEvent.objects.get(action="contact.delete", object_id=str(pk))
    assert event.actor == staff_a2.user
    assert event.object_type == "contact"
    assert event.data["changes"] == {
        "name": ["田中 花子", None],
        "name_kana": ["タナカ ハナコ", None],
        "title": ["知財部長", None],
        "email": ["hanako@example.co.jp", None],
        "phone": ["03-1234-5678", None],
    }
    assert event.data["company"] == contact.company_id


def test_a_hub_that_sees_the_contact_through_consent_may_not_delete_it(
    api, hub_coordinator, contact
):
    assert api(hub_coordinator).get(url(contact)).status_code == 200

    response = api(hub_coordinator).delete(url(contact))

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert "登録した組織だけ" in response.json()["detail"]
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not AuditEvent.objects.filter(action="contact.delete").exists()


def test_an_unrelated_organisation_gets_404_and_the_contact_stays(
    api, staff_b, contact
):
    response = api(staff_b).delete(url(contact))

    assert response.status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()
    with pytest.raises(NotVisible):
        contact_delete(actor=staff_b, contact=contact)


def test_an_organisation_working_on_the_case_may_not_delete_anothers_contact(
    network, case_a, contact
):
    """B holds an accepted referral on A's case: it sees A's contact, it is not B's."""
    receiver = make_actor(ORG_B, "coordinator")
    ReferralFactory(case=case_a, to_organisation=network[ORG_B], status="accepted")

    with pytest.raises(PermissionDenied) as refused:
        contact_delete(actor=receiver, contact=contact)

    assert refused.value.code == "not_permitted"
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_a_contact_who_gave_a_consent_is_not_deleted(api, staff_a, network, contact):
    ConsentFactory(
        company=contact.company, organisation=network[ORG_A], contact=contact
    )

    response = api(staff_a).delete(url(contact))

    assert response.status_code == 409
    assert response.json()["code"] == "contact_in_use"
    assert "同意または第三者提供記録" in response.json()["detail"]
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert not AuditEvent.objects.filter(action="contact.delete").exists()


def test_a_contact_named_by_a_provision_record_is_not_deleted(
    api, staff_a, network, case_a, contact
):
    referral = ReferralFactory(case=case_a, to_organisation=network[ORG_B])
    record = ProvisionRecord.objects.create(
        referral=referral,
        provider=network[ORG_A],
        recipient=network[ORG_B],
        company=case_a.company,
        provided_on=timezone.localdate(),
        consent=case_a.company.consents.get(),
        items_shared=["company", "contacts"],
    )
    record.contacts.set([contact])

    response = api(staff_a).delete(url(contact))

    assert response.status_code == 409
    assert response.json()["code"] == "contact_in_use"
    assert list(record.contacts.all()) == [contact]


def test_a_superuser_deletes_any_contact(superuser_actor, contact):
    contact_delete(actor=superuser_actor, contact=contact)

    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert AuditEvent.objects.filter(
        action="contact.delete", actor=superuser_actor.user
    ).exists()


def test_the_service_refuses_in_use_with_conflict(staff_a, network, contact):
    ConsentFactory(
        company=contact.company, organisation=network[ORG_A], contact=contact
    )

    with pytest.raises(Conflict) as refused:
        contact_delete(actor=staff_a, contact=contact)

    assert refused.value.status_code == 409
