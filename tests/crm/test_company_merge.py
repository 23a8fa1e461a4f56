"""POST companies/{id}/merge/ and company_merge: one company instead of a duplicate."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone

from crm.models import (
    AuditEvent,
    Case,
    Company,
    Consent,
    Consultation,
    Contact,
    FollowUp,
    Outcome,
    ProvisionRecord,
    Referral,
)
from crm.services.merge import REASSIGNED_RELATIONS, company_merge, company_relations
from programs.models import Enrolment
from support_network.actors import Actor
from support_network.errors import Conflict
from support_network.models import Organisation
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsentFactory,
    ConsultationFactory,
    ContactFactory,
    ReferralFactory,
)
from tests.programs.factories import EnrolmentFactory

TOYOTA = "1180301018771"  # reference/houjin_bangou.md §3
NINTENDO = "1130001011420"


@pytest.fixture
def org_admin_a(network) -> Actor:
    return make_actor(ORG_A, "org_admin")


def merge(api, actor, source, target):
    return api(actor).post(
        f"/api/v1/companies/{source.pk}/merge/", {"into": target.pk}, format="json"
    )


def _company(**fields) -> Company:
    # A's org admin merges: A must work with both companies (crm.permissions).
    fields.setdefault("registered_by", Organisation.objects.get(code=ORG_A))
    return CompanyFactory(**fields)


@pytest.fixture
def duplicate(network, staff_a, staff_b):
    """Given a company registered twice, with history on both rows.

    The source (the duplicate) has a case of A and one of B, each with a
    consultation, plus a contact, a consent, an outcome, a follow-up, a
    referral with its provision record, an enrolment, and an older
    duplicate that was merged into it. The target has one case of its own.
    """
    org_a, org_b = network[ORG_A], network[ORG_B]
    source = _company(
        name="みらい精工",
        name_kana="",
        corporate_number=TOYOTA,
        city="大田区",
        industry="",
        capital_yen=None,
        employees=None,
        founded_on=dt.date(2015, 4, 1),
        registered_by=org_b,
    )
    target = _company(
        name="株式会社みらい精工",
        name_kana="ミライセイコウ",
        corporate_number=None,
        city="",
        industry="E",
        capital_yen=30_000_000,
        employees=45,
        registered_by=org_a,
    )
    case_a = CaseFactory(
        company=source,
        organisation=org_a,
        created_by=staff_a.user,
        assignee=staff_a.user,
    )
    case_b = CaseFactory(
        company=source,
        organisation=org_b,
        created_by=staff_b.user,
        assignee=staff_b.user,
    )
    ConsultationFactory(case=case_a)
    ConsultationFactory(case=case_b)
    CaseFactory(company=target, organisation=org_a, created_by=staff_a.user)
    contact = ContactFactory(company=source, organisation=org_a)
    consent = ConsentFactory(company=source, contact=contact, recorded_by=staff_a.user)
    Outcome.objects.create(
        case=case_a,
        company=source,
        organisation=org_a,
        kind="filing",
        occurred_on=timezone.localdate(),
        recorded_by=staff_a.user,
    )
    FollowUp.objects.create(
        case=case_a,
        organisation=org_a,
        assignee=staff_a.user,
        due_on=timezone.localdate() + dt.timedelta(days=7),
    )
    referral = ReferralFactory(
        case=case_a, to_organisation=org_b, sent_by=staff_a.user, consent=consent
    )
    ProvisionRecord.objects.create(
        referral=referral,
        provider=org_a,
        recipient=org_b,
        company=source,
        provided_on=timezone.localdate(),
        consent=consent,
        items_shared=["name"],
    )
    EnrolmentFactory(company=source)
    older = _company(name="ミライセイコウ（旧登録）", merged_into=source)
    return {"source": source, "target": target, "older": older, "case_a": case_a}


def test_merge_moves_every_row_to_the_target(api, duplicate, org_admin_a):
    source, target = duplicate["source"], duplicate["target"]

    response = merge(api, org_admin_a, source, target)

    assert response.status_code == 200, response.content
    assert response.json()["id"] == target.pk
    assert Case.objects.filter(company=target).count() == 3
    assert Consultation.objects.filter(company=target).count() == 2
    assert Contact.objects.filter(company=target).count() == 1
    assert Consent.objects.filter(company=target).count() == 1
    assert Outcome.objects.filter(company=target).count() == 1
    assert ProvisionRecord.objects.filter(company=target).count() == 1
    assert Enrolment.objects.filter(company=target).count() == 1
    # Follow-ups and referrals hang on the case, which moved.
    assert FollowUp.objects.filter(case__company=target).count() == 1
    assert Referral.objects.filter(case__company=target).count() == 1
    assert Company.objects.get(pk=duplicate["older"].pk).merged_into_id == target.pk
    # Nothing at all still points at the source, whatever the relation.
    for relation in company_relations():
        left = relation.model._base_manager.filter(**{relation.field.name: source})
        assert not left.exists(), relation.key


def test_merge_fills_the_targets_empty_fields_and_takes_the_corporate_number(
    api, duplicate, org_admin_a
):
    source, target = duplicate["source"], duplicate["target"]

    response = merge(api, org_admin_a, source, target)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["corporate_number"] == TOYOTA
    assert body["city"] == "大田区"
    assert body["founded_on"] == "2015-04-01"
    # The target's own values win over the source's.
    assert body["name"] == "株式会社みらい精工"
    assert body["name_kana"] == "ミライセイコウ"
    assert body["employees"] == 45
    merged_target = Company.objects.get(pk=target.pk)
    assert merged_target.registered_by.code == ORG_A
    assert merged_target.size_class == "sme"
    tombstone = Company.objects.get(pk=source.pk)
    assert tombstone.merged_into_id == target.pk
    assert tombstone.corporate_number is None


def test_empty_source_fields_do_not_blank_the_target(network, org_admin_a):
    source = _company(name="ダブり", industry="", capital_yen=None, employees=None)
    target = _company(name="本物", industry="E", capital_yen=5_000_000, employees=8)

    company_merge(actor=org_admin_a, source=source, target=target)

    target.refresh_from_db()
    assert (target.industry, target.capital_yen, target.employees) == (
        "E",
        5_000_000,
        8,
    )
    assert target.size_class == "micro"  # manufacturing, ≤ 20 employees


def test_merged_source_kana_is_searchable_on_the_target(api, network, org_admin_a):
    source = _company(name="さくら商店", name_kana="サクラショウテン")
    target = _company(name="有限会社さくら商店", name_kana="")

    company_merge(actor=org_admin_a, source=source, target=target)

    response = api(org_admin_a).get("/api/v1/companies/", {"q": "ｻｸﾗｼｮｳﾃﾝ"})
    assert [row["id"] for row in response.json()["results"]] == [target.pk]


def test_merge_writes_one_audit_event_with_both_ids_and_the_moved_counts(
    api, duplicate, org_admin_a
):
    source, target = duplicate["source"], duplicate["target"]

    merge(api, org_admin_a, source, target)

    event = AuditEvent.objects.get(action="company.merge")
    assert event.actor == org_admin_a.user
    assert event.organisation.code == ORG_A
    assert (event.object_type, event.object_id) == ("company", str(target.pk))
    assert event.data["source"] == source.pk
    assert event.data["target"] == target.pk
    assert event.data["moved"] == {
        "crm.case.company": 2,
        "crm.company.merged_into": 1,
        "crm.consent.company": 1,
        "crm.consultation.company": 2,
        "crm.contact.company": 1,
        "crm.eventattendee.company": 0,
        "crm.outcome.company": 1,
        "crm.provisionrecord.company": 1,
        "crm.survey.company": 0,
        "programs.enrolment.company": 1,
    }
    assert set(event.data["filled"]) == {
        "corporate_number",
        "city",
        "founded_on",
    }


def test_merged_source_disappears_from_search_and_its_detail_is_404(
    api, duplicate, org_admin_a, staff_b
):
    source, target = duplicate["source"], duplicate["target"]

    merge(api, org_admin_a, source, target)

    found = api(staff_b).get("/api/v1/companies/", {"q": "みらい精工"}).json()
    assert [row["id"] for row in found["results"]] == [target.pk]
    by_number = api(staff_b).get("/api/v1/companies/", {"q": TOYOTA}).json()
    assert [row["id"] for row in by_number["results"]] == [target.pk]
    assert api(staff_b).get(f"/api/v1/companies/{source.pk}/").status_code == 404


def test_the_cases_now_show_the_target_company(api, duplicate, org_admin_a, staff_a):
    merge(api, org_admin_a, duplicate["source"], duplicate["target"])

    body = api(staff_a).get(f"/api/v1/cases/{duplicate['case_a'].pk}/").json()

    assert body["company"] == duplicate["target"].pk
    assert body["company_name"] == "株式会社みらい精工"


def test_companies_with_different_corporate_numbers_are_refused_with_409(
    api, network, org_admin_a
):
    source = _company(name="トヨタ", corporate_number=TOYOTA)
    target = _company(name="任天堂", corporate_number=NINTENDO)
    ContactFactory(company=source)

    response = merge(api, org_admin_a, source, target)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "different_corporate_numbers"
    assert "法人番号が異なる企業等は統合できません" in body["detail"]
    source.refresh_from_db()
    assert source.merged_into_id is None
    assert source.corporate_number == TOYOTA
    assert Contact.objects.get().company_id == source.pk
    assert not AuditEvent.objects.filter(action="company.merge").exists()


def test_merging_a_company_into_itself_is_a_400(api, network, org_admin_a):
    company = _company()

    response = merge(api, org_admin_a, company, company)

    assert response.status_code == 400
    assert response.json() == {
        "into": [
            "同じ企業等どうしは統合できません。統合先に別の企業等を選んでください。"
        ]
    }
    company.refresh_from_db()
    assert company.merged_into_id is None


def test_merging_into_a_merged_company_is_409_naming_where_it_went(
    api, network, org_admin_a
):
    survivor = _company(name="残った会社")
    tombstone = _company(name="統合済みの会社", merged_into=survivor)
    source = _company(name="新しい重複")

    response = merge(api, org_admin_a, source, tombstone)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "target_already_merged"
    assert body["merged_into"] == survivor.pk
    assert "統合先の企業等は既に別の企業等に統合されています" in body["detail"]
    source.refresh_from_db()
    assert source.merged_into_id is None


def test_a_merged_company_cannot_be_merged_again(api, network, org_admin_a):
    first_target = _company(name="一つ目")
    second_target = _company(name="二つ目")
    source = _company(name="重複")
    company_merge(actor=org_admin_a, source=source, target=first_target)

    # Through the API the tombstone no longer exists…
    assert merge(api, org_admin_a, source, second_target).status_code == 404
    # …and a caller holding the old row (a second, concurrent request) is refused.
    with pytest.raises(Conflict) as refused:
        company_merge(actor=org_admin_a, source=source, target=second_target)

    assert refused.value.code == "already_merged"
    assert refused.value.status_code == 409
    assert Company.objects.get(pk=source.pk).merged_into_id == first_target.pk


@pytest.mark.parametrize(
    "body", [{}, {"into": "abc"}, {"into": 0}, {"into": 999_999_999}, [], "x"]
)
def test_a_bad_or_unknown_target_is_a_400_naming_into(api, network, org_admin_a, body):
    source = _company()

    response = api(org_admin_a).post(
        f"/api/v1/companies/{source.pk}/merge/", body, format="json"
    )

    assert response.status_code == 400, response.content
    if isinstance(body, dict):
        assert list(response.json()) == ["into"]
    assert Company.objects.get(pk=source.pk).merged_into_id is None


def test_unknown_target_message_is_japanese(api, network, org_admin_a):
    source = _company()

    response = api(org_admin_a).post(
        f"/api/v1/companies/{source.pk}/merge/", {"into": 999_999_999}, format="json"
    )

    assert response.json() == {"into": ["統合先の企業等が見つかりません。"]}


@pytest.mark.parametrize("role", ["window_staff", "manager", "expert"])
def test_other_roles_may_not_merge_and_nothing_changes(api, duplicate, role):
    actor = make_actor(ORG_A, role, username=f"merge-{role}")
    source, target = duplicate["source"], duplicate["target"]

    response = merge(api, actor, source, target)

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert "組織管理者・コーディネーター" in response.json()["detail"]
    assert Case.objects.filter(company=source).count() == 2
    assert Company.objects.get(pk=source.pk).merged_into_id is None
    assert not AuditEvent.objects.filter(action="company.merge").exists()


def test_a_hub_or_an_organisation_working_with_one_company_only_may_not_merge(
    api, network, duplicate, hub_coordinator
):
    """Merging rewrites others' records: both companies must be the merger's."""
    coordinator_b = make_actor(ORG_B, "coordinator")
    source, target = duplicate["source"], duplicate["target"]

    for actor in (hub_coordinator, coordinator_b):  # B works with the source only
        response = merge(api, actor, source, target)
        assert response.status_code == 403, response.content
        assert response.json()["code"] == "not_permitted"
    assert Company.objects.get(pk=source.pk).merged_into_id is None
    assert not AuditEvent.objects.filter(action="company.merge").exists()


@pytest.mark.parametrize("persona", ["org_admin_a", "superuser_actor"])
def test_org_admins_coordinators_and_superusers_may_merge(
    api, duplicate, request, persona
):
    actor = request.getfixturevalue(persona)

    response = merge(api, actor, duplicate["source"], duplicate["target"])

    assert response.status_code == 200, response.content
    assert Case.objects.filter(company=duplicate["target"]).count() == 3


def test_every_relation_to_company_is_handled_by_merge():
    """A new ForeignKey to Company must be reviewed in crm.services.merge."""
    found = {relation.key for relation in company_relations()}

    assert found == set(REASSIGNED_RELATIONS), (
        "Relations to Company changed: add the new ones to "
        "crm.services.merge.REASSIGNED_RELATIONS (or give them their own rule) "
        f"— not handled: {sorted(found - set(REASSIGNED_RELATIONS))}, "
        f"gone: {sorted(set(REASSIGNED_RELATIONS) - found)}"
    )


def _unique_sets(model) -> list[set[str]]:
    sets = [
        set(constraint.fields)
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint)
    ]
    sets += [set(fields) for fields in model._meta.unique_together]
    sets += [{f.name} for f in model._meta.concrete_fields if f.unique]
    return sets


def test_no_reassigned_relation_is_under_a_unique_constraint():
    """Re-pointing rows with one UPDATE is safe only without such a constraint.

    When this fails, merge must decide per row (keep one, refuse with a
    Conflict, …) before moving that model.
    """
    from crm.services.merge import RESOLVED_RELATIONS

    for relation in company_relations():
        if relation.key == "crm.company.merged_into":
            continue
        if relation.key in RESOLVED_RELATIONS:
            continue  # moved row by row (see the event registrations test)
        for fields in _unique_sets(relation.model):
            assert relation.field.name not in fields, (relation.key, fields)


def test_an_unreviewed_relation_stops_the_merge_before_anything_moves(
    duplicate, org_admin_a, monkeypatch
):
    """Leaving rows on the tombstone would lose them; refusing is safer."""
    from crm.services import merge as merge_module

    reviewed = tuple(
        key for key in REASSIGNED_RELATIONS if key != "programs.enrolment.company"
    )
    monkeypatch.setattr(merge_module, "REASSIGNED_RELATIONS", reviewed)
    source, target = duplicate["source"], duplicate["target"]

    with pytest.raises(ImproperlyConfigured, match=r"programs\.enrolment\.company"):
        company_merge(actor=org_admin_a, source=source, target=target)

    assert Case.objects.filter(company=source).count() == 2
    assert Company.objects.get(pk=source.pk).merged_into_id is None


def test_a_consultation_or_consent_for_a_merged_company_is_refused(
    network, org_admin_a, staff_a
):
    from crm.services.consents import consent_record
    from crm.services.consultations import consultation_create

    source, target = _company(name="株式会社統合元"), _company(name="株式会社統合先")
    company_merge(actor=org_admin_a, source=source, target=target)

    with pytest.raises(Conflict) as consultation_refused:
        consultation_create(
            actor=staff_a,
            company=source,
            occurred_at=timezone.now(),
            channel="phone",
            duration_minutes=30,
            topics=["patent"],
            summary="統合済みの企業の相談",
        )
    with pytest.raises(Conflict) as consent_refused:
        consent_record(
            actor=staff_a,
            company=source,
            scope="network",
            obtained_on=timezone.localdate(),
            method="written",
        )

    assert consultation_refused.value.code == "company_merged"
    assert consent_refused.value.code == "company_merged"
    assert consultation_refused.value.extra["merged_into"] == target.pk
    assert not Consultation.objects.filter(company=source).exists()
