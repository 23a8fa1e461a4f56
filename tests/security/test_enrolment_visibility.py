"""Enrolments follow their case's rules; the operator sees the application (issue 24).

docs/visibility.md "Enrolments". Three enrolments of INPIT 東京都窓口 (org A)
in IPAS (operated by INPIT): one on a confidential case assigned to a
colleague, one on an ordinary case, one without a case. Each role below
sees exactly the enrolments and cases the rules give it, in the detail,
the list, the program page's count and the export; the operator sees the
applications without their cases (no id, no referral), and the cases
themselves stay 404 for it.

Before the fix an unassigned window-staff member read the confidential
case's enrolment (200), and INPIT's coordinator and manager read the case id
and referral of every enrolment of its programs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from programs.exports import enrolments_export
from programs.models import TeamMember
from tests.conftest import ORG_A, ORG_B, make_actor
from tests.crm.factories import (
    CaseFactory,
    CompanyFactory,
    ConsentFactory,
    ReferralFactory,
)
from tests.programs.factories import TEST_FY, EnrolmentFactory


@dataclass
class World:
    confidential: object  # enrolment on a confidential case (assigned: staff_a2)
    ordinary: object  # enrolment on an ordinary case
    caseless: object  # enrolment without a case


@pytest.fixture
def world(network, staff_a2):
    company = CompanyFactory(registered_by=network[ORG_A])
    # A network-wide consent: the hubs covering 東京都 see the ordinary case.
    ConsentFactory(company=company)
    secret = CaseFactory(company=company, is_confidential=True, assignee=staff_a2.user)
    ordinary = CaseFactory(company=company)
    return World(
        confidential=EnrolmentFactory(company=company, case=secret),
        ordinary=EnrolmentFactory(company=company, case=ordinary),
        caseless=EnrolmentFactory(company=company),
    )


def _persona(name: str, request, world: World):
    """Return the actor of a persona of the matrix."""
    if name in {"staff_a", "staff_a2", "manager_a", "staff_b", "expert_a"}:
        return request.getfixturevalue(name)
    if name in {"hub_coordinator", "other_hub_coordinator"}:
        return request.getfixturevalue(name)
    if name == "operator_coordinator":
        return make_actor("inpit", "coordinator")
    if name == "operator_manager":
        return make_actor("inpit", "manager")
    if name == "operator_expert":
        return make_actor("inpit", "expert")
    if name == "team_expert":
        actor = make_actor("inpit", "expert", username="team-expert")
        TeamMember.objects.create(
            enrolment=world.confidential, membership=actor.membership, role="ip_expert"
        )
        return actor
    if name == "referred_org":
        ReferralFactory(
            case=world.confidential.case,
            to_organisation=request.getfixturevalue("network")[ORG_B],
            status="accepted",
        )
        return make_actor(ORG_B, "window_staff", username="referred-staff")
    raise AssertionError(name)


# persona → {enrolment: whether its case is shown}; absent = invisible.
C, OR, N = "confidential", "ordinary", "caseless"
MATRIX = {
    # Owner's staff assigned to the confidential case.
    "staff_a2": {C: True, OR: True, N: True},
    # Owner's staff not assigned to it: the confidential one does not exist.
    "staff_a": {OR: True, N: True},
    "manager_a": {C: True, OR: True, N: True},
    # Experts of the owner: only what is assigned to them (nothing here).
    "expert_a": {},
    # The operator runs IPAS: every application, none of the cases it may
    # not see. INPIT HQ is also a national hub (DESIGN.md rule 3): with the
    # network consent its coordinators see the ordinary case, never the
    # confidential one; its managers see no case.
    "operator_coordinator": {C: False, OR: True, N: False},
    "operator_manager": {C: False, OR: False, N: False},
    # The operator's experts: only through a support team.
    "operator_expert": {},
    "team_expert": {C: False},
    # The hub covering 東京都, with network consent: not the confidential case.
    "hub_coordinator": {OR: True},
    # The organisation the confidential case was referred to.
    "referred_org": {C: True},
    # Unrelated organisations.
    "staff_b": {},
    "other_hub_coordinator": {},
}


@pytest.mark.parametrize("persona", list(MATRIX))
def test_each_role_sees_the_enrolments_and_cases_the_rules_give_it(
    api, request, world, persona
):
    actor = _persona(persona, request, world)
    client = api(actor)
    expected = MATRIX[persona]
    enrolments = {C: world.confidential, OR: world.ordinary, N: world.caseless}

    listed = client.get("/api/v1/enrolments/", {"page_size": 200}).json()["results"]

    assert {e["id"] for e in listed} == {enrolments[k].pk for k in expected}
    for key, enrolment in enrolments.items():
        detail = client.get(f"/api/v1/enrolments/{enrolment.pk}/")
        if key not in expected:
            assert detail.status_code == 404, key
            continue
        assert detail.status_code == 200, key
        body = detail.json()
        shown_case = enrolment.case_id if expected[key] else None
        assert body["case"] == shown_case, key
        # The application itself: program, company's public data, status.
        assert body["program"] == "ipas"
        assert body["company_name"] == enrolment.company.name
        assert body["status"] == "applied"
        if enrolment.case_id is not None and not expected[key]:
            # The case behind it does not exist for this actor.
            response = client.get(f"/api/v1/cases/{enrolment.case_id}/")
            assert response.status_code == 404, key


@pytest.mark.parametrize(
    ("persona", "rows"),
    [
        ("staff_a", {OR: True, N: True}),
        ("staff_a2", {C: True, OR: True, N: True}),
        ("operator_coordinator", {C: False, OR: True, N: False}),
        ("operator_manager", {C: False, OR: False, N: False}),
        ("staff_b", {}),
    ],
)
def test_the_enrolment_export_follows_the_same_rule(request, world, persona, rows):
    actor = _persona(persona, request, world)
    enrolments = {C: world.confidential, OR: world.ordinary, N: world.caseless}

    table = enrolments_export(actor=actor, fiscal_year=TEST_FY, params={})
    exported = {row[0]: row[-1] for row in table.rows}

    assert table.total == len(rows)
    assert exported == {
        enrolments[k].pk: (enrolments[k].case_id if shown else None)
        for k, shown in rows.items()
    }


@pytest.mark.parametrize(
    ("persona", "count"),
    [("staff_a", 2), ("staff_a2", 3), ("operator_coordinator", 3), ("staff_b", 0)],
)
def test_the_program_page_counts_only_visible_enrolments(
    client, request, world, persona, count
):
    actor = _persona(persona, request, world)
    client.force_login(actor.user)

    response = client.get("/programs/ipas/")

    assert response.status_code == 200
    assert response.context["visible_total"] == count


def test_the_operator_page_of_a_confidential_enrolment_links_no_case(client, world):
    coordinator = make_actor("inpit", "coordinator")
    client.force_login(coordinator.user)

    response = client.get(f"/enrolments/{world.confidential.pk}/")

    assert response.status_code == 200
    assert f"/cases/{world.confidential.case_id}/" not in response.content.decode()
    assert world.confidential.case.title not in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "count"), [("operator_manager", 3), ("staff_b", 0)]
)
def test_program_statistics_count_what_the_operator_may_list_and_name_no_case(
    api, request, network, staff_a2, persona, count
):
    # Aggregates (DESIGN.md rule 6): the operator counts every enrolment of
    # the programs it runs, the same set it lists, and no case appears.
    from tests.programs.factories import ProgramRoundFactory

    round_ = ProgramRoundFactory(fiscal_year=2026)
    company = CompanyFactory(registered_by=network[ORG_A])
    secret = CaseFactory(company=company, is_confidential=True, assignee=staff_a2.user)
    EnrolmentFactory(round=round_, company=company, case=secret)
    EnrolmentFactory(round=round_, company=company, case=CaseFactory(company=company))
    EnrolmentFactory(round=round_, company=company)
    actor = _persona(persona, request, None)

    response = api(actor).get(
        "/api/v1/statistics/programs/", {"fiscal_year": 2026, "program": "ipas"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["totals"]["enrolments"] == count
    assert "case" not in json.dumps(body)
