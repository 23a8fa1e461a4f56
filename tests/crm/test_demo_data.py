"""Demo data (manage.py load_demo_data) keeps the rules the services enforce."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from crm.choices import ConsentScope, FollowUpStatus
from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    FollowUp,
    Outcome,
    Referral,
)
from crm.rules.corporate_number import is_valid_corporate_number
from crm.rules.industries import is_valid_industry
from crm.rules.names import kana_key, name_key
from seeds.demo.load import DemoDataError, demo_data_load
from seeds.demo.users import DEMO_PASSWORD, DEMO_USERS
from support_network import calendar
from support_network.choices import OrganisationKind
from support_network.models import Membership, Organisation

TODAY = date(2026, 11, 20)
# Small enough to keep each test well under a second.
COMPANIES = 30

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(network) -> dict[str, int]:
    return demo_data_load(companies=COMPANIES, today=TODAY)


def _row_counts() -> dict[str, int]:
    models = (Company, Case, Consultation, Consent, FollowUp, Referral, Outcome)
    return {model.__name__: model.objects.count() for model in models} | {
        "users": get_user_model().objects.count()
    }


def test_loading_reports_what_it_created(demo):
    assert demo["companies"] == COMPANIES
    assert demo["cases"] == 2 * COMPANIES
    assert demo["consultations"] == 5 * COMPANIES
    counts = _row_counts()
    assert counts["Company"] == demo["companies"]
    assert counts["Case"] == demo["cases"]
    assert counts["Consultation"] == demo["consultations"]
    assert counts["FollowUp"] == demo["follow_ups"] > 0
    assert counts["Referral"] == demo["referrals"] > 0
    assert counts["Consent"] == demo["consents"] > 0


def test_demo_users_have_their_membership_role_and_password(demo):
    for demo_user in DEMO_USERS:
        membership = Membership.objects.select_related("user").get(
            user__username=demo_user.username
        )
        assert membership.organisation.code == demo_user.organisation_code
        assert membership.role == demo_user.role
        assert membership.user.check_password(DEMO_PASSWORD)
        assert membership.user.is_superuser == demo_user.is_superuser
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    tokyo = get_user_model().objects.get(username="staff-tokyo")
    assert not tokyo.is_staff and not tokyo.is_superuser


def test_every_corporate_number_is_valid_and_unique(demo):
    numbers = list(
        Company.objects.exclude(corporate_number=None).values_list(
            "corporate_number", flat=True
        )
    )
    assert numbers
    assert all(is_valid_corporate_number(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    assert not Company.objects.filter(
        kind="sole_proprietor", corporate_number__isnull=False
    ).exists()


def test_companies_carry_derived_keys_and_a_jsic_industry(demo):
    for company in Company.objects.all():
        assert company.name_key == name_key(company.name)
        assert company.kana_key == kana_key(company.name_kana)
        assert is_valid_industry(company.industry)


def test_consultations_carry_their_jst_date_and_fiscal_year(demo):
    consultations = Consultation.objects.prefetch_related("topics", "case")
    for consultation in consultations:
        assert consultation.fiscal_year == calendar.fiscal_year(
            consultation.occurred_at
        )
        assert consultation.occurred_on == calendar.local_date(consultation.occurred_at)
        assert date(2024, 4, 1) <= consultation.occurred_on < TODAY
        assert 15 <= consultation.duration_minutes <= 120
        assert 1 <= len(consultation.topics.all()) <= 3
        assert consultation.organisation_id == consultation.case.organisation_id
        assert consultation.company_id == consultation.case.company_id
    assert set(consultations.values_list("fiscal_year", flat=True)) == {
        2024,
        2025,
        2026,
    }


def test_joint_attendance_pairs_the_inpit_window_and_yorozu_of_a_prefecture(demo):
    joint = Consultation.objects.filter(attendees__isnull=False).distinct()
    for consultation in joint:
        attendees = list(consultation.attendees.all())
        prefecture = consultation.organisation.prefecture_id
        assert sorted(a.code for a in attendees) == [
            f"inpit-window-{prefecture}",
            f"yorozu-{prefecture}",
        ]


def test_follow_ups_done_at_matches_status(demo):
    follow_ups = list(FollowUp.objects.all())
    assert {f.status for f in follow_ups} == {FollowUpStatus.OPEN, FollowUpStatus.DONE}
    for follow_up in follow_ups:
        if follow_up.status == FollowUpStatus.OPEN:
            assert follow_up.done_at is None
        else:
            assert follow_up.done_at is not None
            assert calendar.local_date(follow_up.done_at) < TODAY
    assert FollowUp.objects.filter(status="open", due_on__lt=TODAY).exists()


def test_referrals_never_go_to_self_and_rest_on_a_network_consent(demo):
    referrals = Referral.objects.select_related("case", "consent", "provision_record")
    assert referrals
    for referral in referrals:
        sent_on = calendar.local_date(referral.sent_at)
        assert referral.from_organisation_id != referral.to_organisation_id
        assert referral.from_organisation_id == referral.case.organisation_id
        consent = referral.consent
        assert consent.company_id == referral.case.company_id
        assert consent.scope == ConsentScope.NETWORK
        assert consent.withdrawn_at is None
        assert consent.obtained_on <= sent_on
        assert referral.respond_by == calendar.add_business_days(sent_on, 3)
        assert referral.provision_record.consent_id == consent.pk
        assert referral.status in ("sent", "accepted", "completed")
        if referral.status != "sent":
            assert referral.answered_at > referral.sent_at


def test_confidential_cases_have_confidential_consultations(demo):
    for case in Case.objects.prefetch_related("consultations"):
        assert {c.is_confidential for c in case.consultations.all()} == {
            case.is_confidential
        }


def test_a_second_load_adds_nothing(demo):
    before = _row_counts()

    again = demo_data_load(companies=COMPANIES, today=TODAY)

    assert set(again.values()) == {0}
    assert _row_counts() == before


def test_loading_without_the_network_is_refused(network):
    Organisation.objects.filter(kind=OrganisationKind.CCI_FEDERATION).delete()

    with pytest.raises(DemoDataError) as excinfo:
        demo_data_load(companies=COMPANIES, today=TODAY)

    assert excinfo.value.code == "network_not_seeded"
    assert not Company.objects.exists()
    assert not get_user_model().objects.filter(username="staff-tokyo").exists()


def test_load_demo_data_command_at_scale_1(network):
    out = StringIO()

    call_command("load_demo_data", "--scale", "1", stdout=out)

    assert Company.objects.count() == 200
    assert Case.objects.count() == 400
    assert Consultation.objects.count() == 1000
    output = out.getvalue()
    assert "相談記録: 1,000 件" in output
    assert "staff-tokyo" in output
    assert DEMO_PASSWORD in output

    again = StringIO()
    call_command("load_demo_data", stdout=again)
    assert "登録済み" in again.getvalue()
    assert Company.objects.count() == 200


def test_load_demo_data_command_refuses_scale_0(network):
    with pytest.raises(CommandError):
        call_command("load_demo_data", "--scale", "0", stdout=StringIO())
