"""Support team, continuation of iAca/iNat, a period's own day quota, and
referring a case into a program (service and POST enrolments/ with referral)."""

import datetime as dt
from decimal import Decimal

import pytest

from crm.models import Consent, ProvisionRecord, Referral
from crm.services.consents import ConsentNotRecorded
from programs.models import Enrolment, SupportDay, SupportPlan, TeamMember
from programs.services.enrolments import add_months, enrolment_continue
from programs.services.referrals import (
    enrolment_refer,
    enrolment_refer_with_consent,
)
from programs.services.support_days import support_days_log, support_plan_save
from programs.services.teams import enrolment_team_add, enrolment_team_remove
from support_network.errors import Conflict, PermissionDenied, ValidationFailed
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, CompanyFactory, ConsentFactory
from tests.programs.factories import (
    TEST_FY,
    EnrolmentFactory,
    ProgramRoundFactory,
    SupportDayFactory,
    SupportPlanFactory,
    program,
)

TODAY = dt.date(2026, 11, 21)
STARTED = dt.date(2026, 5, 1)


@pytest.fixture
def coordinator(network):
    return make_actor("inpit", "coordinator")


@pytest.fixture
def ip_expert(network):
    return make_actor("jpaa-kanto", "expert", username="benrishi-team")


def enrolment_of(code, *, status="active", scheme="", **kwargs):
    round_ = ProgramRoundFactory(program=program(code))
    return EnrolmentFactory(
        round=round_, status=status, scheme=scheme, started_on=STARTED, **kwargs
    )


# --- Support team --------------------------------------------------------------------


def test_the_operator_puts_an_ip_expert_on_an_ipas_team(coordinator, ip_expert):
    enrolment = enrolment_of("ipas", status="accepted")

    member = enrolment_team_add(
        actor=coordinator,
        enrolment=enrolment,
        membership=ip_expert.membership.pk,
        role="ip_expert",
    )

    assert TeamMember.objects.get(enrolment=enrolment) == member
    assert member.membership == ip_expert.membership
    assert member.role == "ip_expert"


def test_an_ipas_team_takes_only_ip_and_business_experts(coordinator, ip_expert):
    enrolment = enrolment_of("ipas", status="accepted")

    with pytest.raises(ValidationFailed) as caught:
        enrolment_team_add(
            actor=coordinator,
            enrolment=enrolment,
            membership=ip_expert.membership,
            role="producer",
        )

    assert caught.value.field == "role"
    assert caught.value.detail == (
        "IPASの支援チームの役割は知財専門家、ビジネス専門家です。"
    )
    assert not TeamMember.objects.exists()


def test_an_iaca_team_may_have_a_producer(coordinator, ip_expert):
    enrolment = enrolment_of("iaca", scheme="1")

    member = enrolment_team_add(
        actor=coordinator,
        enrolment=enrolment,
        membership=ip_expert.membership,
        role="producer",
    )

    assert member.get_role_display() == "知財戦略プロデューサー"


@pytest.mark.parametrize("role", ["window_staff", "coordinator", "manager"])
def test_only_experts_memberships_join_a_team(coordinator, network, role):
    member = make_actor("jpaa-kanto", role, username=f"not-expert-{role}")
    enrolment = enrolment_of("ipas", status="accepted")

    with pytest.raises(ValidationFailed) as caught:
        enrolment_team_add(
            actor=coordinator,
            enrolment=enrolment,
            membership=member.membership,
            role="ip_expert",
        )

    assert caught.value.field == "membership"
    assert not TeamMember.objects.exists()


def test_an_inactive_expert_does_not_join_a_team(coordinator, ip_expert):
    ip_expert.membership.is_active = False
    ip_expert.membership.save()
    enrolment = enrolment_of("ipas", status="accepted")

    with pytest.raises(ValidationFailed):
        enrolment_team_add(
            actor=coordinator,
            enrolment=enrolment,
            membership=ip_expert.membership,
            role="ip_expert",
        )


def test_an_expert_joins_a_team_once(coordinator, ip_expert):
    enrolment = enrolment_of("ipas", status="accepted")
    enrolment_team_add(
        actor=coordinator,
        enrolment=enrolment,
        membership=ip_expert.membership,
        role="ip_expert",
    )

    with pytest.raises(Conflict) as caught:
        enrolment_team_add(
            actor=coordinator,
            enrolment=enrolment,
            membership=ip_expert.membership,
            role="business_expert",
        )

    assert caught.value.code == "already_on_team"
    assert TeamMember.objects.filter(enrolment=enrolment).count() == 1


@pytest.mark.parametrize("status", ["applied", "screening", "rejected", "completed"])
def test_teams_are_formed_for_accepted_and_active_enrolments_only(
    coordinator, ip_expert, status
):
    enrolment = enrolment_of("ipas", status=status)

    with pytest.raises(Conflict) as caught:
        enrolment_team_add(
            actor=coordinator,
            enrolment=enrolment,
            membership=ip_expert.membership,
            role="ip_expert",
        )

    assert caught.value.code == "enrolment_not_active"


def test_the_applicant_organisation_does_not_form_the_team(staff_a, ip_expert):
    enrolment = enrolment_of("ipas", status="accepted")

    with pytest.raises(PermissionDenied):
        enrolment_team_add(
            actor=staff_a,
            enrolment=enrolment,
            membership=ip_expert.membership,
            role="ip_expert",
        )


def test_the_operator_takes_an_expert_off_the_team(coordinator, ip_expert, staff_a):
    enrolment = enrolment_of("ipas", status="accepted")
    member = enrolment_team_add(
        actor=coordinator,
        enrolment=enrolment,
        membership=ip_expert.membership,
        role="ip_expert",
    )

    with pytest.raises(PermissionDenied):
        enrolment_team_remove(actor=staff_a, member=member)
    enrolment_team_remove(actor=coordinator, member=member)

    assert not TeamMember.objects.exists()


# --- Continuation (継続支援) -----------------------------------------------------------


@pytest.mark.parametrize(("code", "months"), [("iaca", 10), ("inat", 12)])
def test_continuation_starts_the_next_period_once_the_plan_is_achieved(
    coordinator, code, months
):
    enrolment = enrolment_of(code, scheme="1")
    SupportPlanFactory(enrolment=enrolment, is_achieved=True)

    continued = enrolment_continue(actor=coordinator, enrolment=enrolment, today=TODAY)

    assert continued.period == 2
    assert continued.started_on == TODAY
    assert continued.ends_on == add_months(TODAY, months)
    assert Enrolment.objects.get(pk=enrolment.pk).period == 2


@pytest.mark.parametrize("code", ["iaca", "inat"])
def test_continuation_without_the_plan_achieved_is_a_409(coordinator, code):
    enrolment = enrolment_of(code, scheme="1")
    SupportPlanFactory(enrolment=enrolment, is_achieved=False)

    with pytest.raises(Conflict) as caught:
        enrolment_continue(actor=coordinator, enrolment=enrolment)

    assert caught.value.code == "plan_not_achieved"
    assert Enrolment.objects.get(pk=enrolment.pk).period == 1


def test_continuation_without_any_plan_is_a_409(coordinator):
    enrolment = enrolment_of("iaca", scheme="2")

    with pytest.raises(Conflict) as caught:
        enrolment_continue(actor=coordinator, enrolment=enrolment)

    assert caught.value.code == "plan_not_achieved"


def test_ipas_has_no_continuation(coordinator):
    enrolment = enrolment_of("ipas")

    with pytest.raises(Conflict) as caught:
        enrolment_continue(actor=coordinator, enrolment=enrolment)

    assert caught.value.code == "continuation_not_allowed"


@pytest.mark.parametrize("status", ["accepted", "completed", "withdrawn"])
def test_only_active_enrolments_continue(coordinator, status):
    enrolment = enrolment_of("iaca", scheme="1", status=status)
    SupportPlanFactory(enrolment=enrolment, is_achieved=True)

    with pytest.raises(Conflict) as caught:
        enrolment_continue(actor=coordinator, enrolment=enrolment)

    assert caught.value.code == "enrolment_not_active"


def test_the_applicant_does_not_continue_an_enrolment(staff_a):
    enrolment = enrolment_of("iaca", scheme="1")
    SupportPlanFactory(enrolment=enrolment, is_achieved=True)

    with pytest.raises(PermissionDenied):
        enrolment_continue(actor=staff_a, enrolment=enrolment)


def test_a_new_iaca_period_needs_its_own_plan_and_gets_a_fresh_quota(coordinator):
    enrolment = enrolment_of("iaca", scheme="1")
    SupportPlanFactory(enrolment=enrolment, is_achieved=True)
    for n in range(30):
        SupportDayFactory(enrolment=enrolment, date=STARTED + dt.timedelta(days=n))
    enrolment_continue(actor=coordinator, enrolment=enrolment, today=TODAY)

    with pytest.raises(ValidationFailed) as caught:
        support_days_log(
            actor=coordinator, enrolment=enrolment, date=TODAY, days="1", today=TODAY
        )
    assert caught.value.code == "plan_required"
    support_plan_save(
        actor=coordinator, enrolment=enrolment, goals="第2期: 大型共同研究の組成"
    )
    day = support_days_log(
        actor=coordinator, enrolment=enrolment, date=TODAY, days="1", today=TODAY
    )

    assert day.period == 2
    assert SupportPlan.objects.filter(enrolment=enrolment).count() == 2


# --- A period's own day quota (iAca: 25–30 days) ---------------------------------------


@pytest.mark.parametrize("days", [25, 30])
def test_an_iaca_plan_sets_the_period_quota_between_25_and_30(coordinator, days):
    enrolment = enrolment_of("iaca", scheme="1")

    plan, _created = support_plan_save(
        actor=coordinator, enrolment=enrolment, goals="目標", day_quota=days
    )

    assert plan.day_quota_days == days


@pytest.mark.parametrize("days", [24, 31])
def test_an_iaca_period_quota_outside_25_to_30_is_refused(coordinator, days):
    enrolment = enrolment_of("iaca", scheme="1")

    with pytest.raises(ValidationFailed) as caught:
        support_plan_save(
            actor=coordinator, enrolment=enrolment, goals="目標", day_quota=days
        )

    assert caught.value.field == "day_quota"
    assert caught.value.detail == (
        "iAcaの支援期ごとの日数上限は25日から30日の間で設定してください。"
    )
    assert not SupportPlan.objects.exists()


@pytest.mark.parametrize("code", ["inat", "ipas"])
def test_programs_without_a_configurable_period_quota_refuse_one(coordinator, code):
    enrolment = enrolment_of(code, scheme="1" if code == "inat" else "")

    with pytest.raises(ValidationFailed) as caught:
        support_plan_save(
            actor=coordinator, enrolment=enrolment, goals="目標", day_quota=25
        )

    assert caught.value.field == "day_quota"


def test_a_period_quota_below_the_days_already_logged_is_refused(coordinator):
    enrolment = enrolment_of("iaca", scheme="1")
    for n in range(26):
        SupportDayFactory(enrolment=enrolment, date=STARTED + dt.timedelta(days=n))

    with pytest.raises(ValidationFailed) as caught:
        support_plan_save(
            actor=coordinator, enrolment=enrolment, goals="目標", day_quota=25
        )

    assert caught.value.detail == (
        "第1期には既に26日を記録しているため、上限を25日にはできません。"
    )


def test_with_a_25_day_quota_the_25th_day_is_logged_and_the_next_half_is_not(
    coordinator,
):
    enrolment = enrolment_of("iaca", scheme="1")
    SupportPlanFactory(enrolment=enrolment, day_quota_days=25)
    for n in range(24):
        SupportDayFactory(enrolment=enrolment, date=STARTED + dt.timedelta(days=n))

    def log(days):
        return support_days_log(
            actor=coordinator, enrolment=enrolment, date=TODAY, days=days, today=TODAY
        )

    assert log("1").days == Decimal("1")
    with pytest.raises(ValidationFailed) as caught:
        log("0.5")

    assert caught.value.code == "quota_exceeded"
    assert caught.value.extra == {"remaining_days": 0.0}
    assert SupportDay.objects.filter(enrolment=enrolment).count() == 25


# --- Referring a case into a program -------------------------------------------------


@pytest.fixture
def yorozu(network):
    return make_actor("yorozu-13", "window_staff", username="yorozu-refer")


@pytest.fixture
def yorozu_case(yorozu, network):
    company = CompanyFactory(
        registered_by=network["yorozu-13"], founded_on=dt.date(2024, 4, 1)
    )
    ProgramRoundFactory(program=program("ipas"), fiscal_year=TEST_FY)
    return CaseFactory(
        company=company, organisation=network["yorozu-13"], created_by=yorozu.user
    )


def refer(actor, case, **kwargs):
    return enrolment_refer(
        actor=actor,
        program=program("ipas"),
        fiscal_year=TEST_FY,
        case=case,
        reason="IPASでの支援を希望",
        topics=["patent"],
        today=TODAY,
        **kwargs,
    )


def test_referring_into_a_program_sends_the_referral_and_applies(yorozu, yorozu_case):
    ConsentFactory(company=yorozu_case.company, scope="network")

    enrolment = refer(yorozu, yorozu_case)

    referral = Referral.objects.get(case=yorozu_case)
    assert enrolment.referral == referral
    assert referral.to_organisation.code == "inpit"
    assert enrolment.case == yorozu_case
    assert enrolment.organisation.code == "yorozu-13"
    assert ProvisionRecord.objects.filter(referral=referral).count() == 1


def test_referring_without_consent_writes_nothing(yorozu, yorozu_case):
    with pytest.raises(Conflict) as caught:
        refer(yorozu, yorozu_case)

    assert caught.value.code == "consent_required"
    assert not Enrolment.objects.exists()
    assert not Referral.objects.exists()


def test_an_ineligible_company_is_not_referred_either(yorozu, yorozu_case):
    ConsentFactory(company=yorozu_case.company, scope="network")
    company = yorozu_case.company
    company.kind = "university"
    company.save()

    with pytest.raises(ValidationFailed) as caught:
        refer(yorozu, yorozu_case)

    assert caught.value.code == "not_eligible"
    assert not Referral.objects.exists()
    assert not Enrolment.objects.exists()


def test_the_operator_applies_without_referring_to_itself(coordinator, network):
    case = CaseFactory(organisation=network["inpit"])

    with pytest.raises(ValidationFailed) as caught:
        refer(coordinator, case)

    assert caught.value.field == "program"


def refer_with_consent(actor, case, *, obtained_on=TODAY, scope="organisations"):
    return enrolment_refer_with_consent(
        actor=actor,
        program=program("ipas"),
        fiscal_year=TEST_FY,
        case=case,
        reason="IPASでの支援を希望",
        topics=["patent"],
        today=TODAY,
        consent_scope=scope,
        consent_obtained_on=obtained_on,
        consent_method="written",
    )


def test_referring_with_consent_records_it_for_the_operator_then_refers(
    yorozu, yorozu_case
):
    enrolment = refer_with_consent(yorozu, yorozu_case)

    consent = Consent.objects.get(company=yorozu_case.company)
    assert [o.code for o in consent.organisations.all()] == ["inpit"]
    assert enrolment.referral.to_organisation.code == "inpit"


def test_a_refused_consent_is_told_apart_and_writes_nothing(yorozu, yorozu_case):
    with pytest.raises(ConsentNotRecorded) as caught:
        refer_with_consent(yorozu, yorozu_case, obtained_on=dt.date(2999, 1, 1))

    assert caught.value.error.field == "obtained_on"
    assert not Consent.objects.exists()
    assert not Referral.objects.exists()
    assert not Enrolment.objects.exists()


def test_an_ineligible_referral_rolls_its_consent_back(yorozu, yorozu_case):
    company = yorozu_case.company
    company.kind = "university"
    company.save()

    with pytest.raises(ValidationFailed) as caught:
        refer_with_consent(yorozu, yorozu_case, scope="network")

    assert caught.value.code == "not_eligible"
    assert not Consent.objects.exists()


def test_post_enrolments_with_a_referral_refers_and_applies(api, yorozu, yorozu_case):
    ConsentFactory(company=yorozu_case.company, scope="network")
    body = {
        "program": "ipas",
        "fiscal_year": TEST_FY,
        "company": yorozu_case.company_id,
        "case": yorozu_case.pk,
        "referral": {"reason": "IPASでの支援を希望", "topics": ["patent"]},
    }

    response = api(yorozu).post("/api/v1/enrolments/", body, format="json")

    assert response.status_code == 201
    referral = Referral.objects.get(case=yorozu_case)
    assert response.json()["referral"] == referral.pk
    assert response.json()["status"] == "applied"


def test_post_enrolments_with_a_referral_but_no_consent_is_a_409(
    api, yorozu, yorozu_case
):
    body = {
        "program": "ipas",
        "fiscal_year": TEST_FY,
        "company": yorozu_case.company_id,
        "case": yorozu_case.pk,
        "referral": {"reason": "IPASでの支援を希望", "topics": ["patent"]},
    }

    response = api(yorozu).post("/api/v1/enrolments/", body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "consent_required"
    assert not Enrolment.objects.exists()
    assert not Consent.objects.exists()


def test_post_enrolments_with_a_referral_needs_the_case(api, yorozu, yorozu_case):
    body = {
        "program": "ipas",
        "fiscal_year": TEST_FY,
        "company": yorozu_case.company_id,
        "referral": {"reason": "IPASでの支援を希望", "topics": ["patent"]},
    }

    response = api(yorozu).post("/api/v1/enrolments/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "case": ["紹介して申し込むときは案件（case）を指定してください。"]
    }


def test_post_plan_takes_the_period_day_quota(api, coordinator):
    enrolment = enrolment_of("iaca", scheme="1")

    response = api(coordinator).post(
        f"/api/v1/enrolments/{enrolment.pk}/plan/",
        {"goals": "目標", "day_quota": 27},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["day_quota_days"] == 27
