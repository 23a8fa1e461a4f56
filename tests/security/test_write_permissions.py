"""Permission matrix of writes: seeing is not writing (DESIGN.md "Who may change what").

One case of INPIT 東京都窓口 (A) with a network-wide consent, a consultation,
a follow-up, a contact and an outcome, referred to three よろず拠点 — one
referral still `sent`, one `accepted`, one `completed`. Every write of the
API and of the web UI is then tried as each of:

- the owner: A's window staff who logged the consultation, and A's coordinator;
- a sent-referral receiver, an accepted receiver, a completed receiver
  (their coordinators, the role that may do most);
- the hub that sees the case through the consent (関東経済産業局's coordinator);
- an unrelated organisation (よろず 沖縄's coordinator);
- a deactivated member of A.

Each answer must be the one in the table (2xx, 403 `not_permitted`, 404, or
400 for an invisible record named in a body), and a refused write must
change nothing in the database.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
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
    Referral,
)
from crm.services.cases import outcome_record
from crm.services.consents import consent_record
from crm.services.consultations import consultation_create
from crm.services.contacts import contact_create
from crm.services.referral_transitions import referral_accept, referral_complete
from crm.services.referrals import referral_send
from programs.models import Enrolment
from support_network.models import Membership, Organisation
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory

SENT_TO = "yorozu-11"
ACCEPTED_BY = "yorozu-12"
COMPLETED_BY = "yorozu-14"
HUB = "bureau-kanto"
UNRELATED = "yorozu-47"

IDENTITIES = [
    "owner_staff",
    "owner_coordinator",
    "sent_receiver",
    "accepted_receiver",
    "completed_receiver",
    "hub",
    "unrelated",
    "deactivated",
]


@pytest.fixture
def world(network):
    owner = make_actor(ORG_A, "window_staff", username="owner-staff")
    people = {
        "owner_staff": owner,
        "owner_coordinator": make_actor(ORG_A, "coordinator", username="owner-coord"),
        "sent_receiver": make_actor(SENT_TO, "coordinator", username="sent-coord"),
        "accepted_receiver": make_actor(
            ACCEPTED_BY, "coordinator", username="accepted-coord"
        ),
        "completed_receiver": make_actor(
            COMPLETED_BY, "coordinator", username="completed-coord"
        ),
        "hub": make_actor(HUB, "coordinator", username="hub-coord"),
        "unrelated": make_actor(UNRELATED, "coordinator", username="unrelated-coord"),
        "deactivated": make_actor(ORG_A, "window_staff", username="gone-staff"),
    }
    Membership.objects.filter(user=people["deactivated"].user).update(is_active=False)
    org_a = Organisation.objects.get(code=ORG_A)
    company = CompanyFactory(name="株式会社書込権限テスト", registered_by=org_a)
    other_company = CompanyFactory(name="株式会社統合先テスト", registered_by=org_a)
    consent = consent_record(
        actor=owner,
        company=company,
        scope="network",
        obtained_on=timezone.localdate(),
        method="written",
    )
    contact = contact_create(actor=owner, company=company, name="山田 太郎")
    consultation = consultation_create(
        actor=owner,
        company=company,
        occurred_at=timezone.now() - dt.timedelta(hours=2),
        channel="visit",
        duration_minutes=30,
        topics=["patent"],
        summary="特許出願の相談",
        follow_up_on=timezone.localdate() + dt.timedelta(days=7),
    )
    case = consultation.case
    outcome = outcome_record(
        actor=owner,
        case=case,
        kind="filing",
        occurred_on=timezone.localdate(),
        reference="特願2026-000001",
    )
    referrals = {}
    for name, code in (
        ("sent", SENT_TO),
        ("accepted", ACCEPTED_BY),
        ("completed", COMPLETED_BY),
    ):
        referrals[name] = referral_send(
            actor=owner,
            case=case,
            to_organisation=Organisation.objects.get(code=code),
            reason="出願戦略の相談",
            topics=["patent"],
        )
    referral_accept(
        actor=people["accepted_receiver"], referral=referrals["accepted"]
    )
    referral_accept(
        actor=people["completed_receiver"], referral=referrals["completed"]
    )
    referral_complete(
        actor=people["completed_receiver"],
        referral=referrals["completed"],
        outcome_note="出願済み",
    )
    return {
        "people": people,
        "company": company,
        "other_company": other_company,
        "consent": consent,
        "contact": contact,
        "consultation": consultation,
        "case": case,
        "follow_up": case.follow_ups.get(),
        "outcome": outcome,
        "referrals": referrals,
    }


def state() -> tuple:
    """What a refused write must leave exactly as it was."""
    return (
        Consultation.objects.count(),
        Outcome.objects.count(),
        Referral.objects.count(),
        Contact.objects.count(),
        Consent.objects.count(),
        Enrolment.objects.count(),
        tuple(FollowUp.objects.order_by("pk").values_list("status", "done_by_id")),
        tuple(Case.objects.order_by("pk").values_list("assignee_id", "status")),
        tuple(Company.objects.order_by("pk").values_list("city", "merged_into_id")),
        tuple(Contact.objects.order_by("pk").values_list("name")),
        tuple(Consent.objects.order_by("pk").values_list("withdrawn_at")),
        tuple(Referral.objects.order_by("pk").values_list("status", "assignee_id")),
    )


# --- The API ------------------------------------------------------------------
#
# Each write: how to call it, and the status each identity must get.
# D = deactivated member: 403 no_membership before any rule is read.


def _consultation(w, actor):
    return (
        "post",
        "/api/v1/consultations/",
        {
            "company": w["company"].pk,
            "case": w["case"].pk,
            "occurred_at": timezone.now().isoformat(),
            "channel": "phone",
            "duration_minutes": 15,
            "topics": ["patent"],
            "summary": "追加の相談",
        },
    )


def _outcome(w, actor):
    return (
        "post",
        "/api/v1/outcomes/",
        {
            "case": w["case"].pk,
            "kind": "licence",
            "occurred_on": timezone.localdate().isoformat(),
        },
    )


def _follow_up_complete(w, actor):
    return "post", f"/api/v1/follow-ups/{w['follow_up'].pk}/complete/", {}


def _case_assign(w, actor):
    return "post", f"/api/v1/cases/{w['case'].pk}/assign/", {"assignee": actor.user.pk}


def _referral_send(w, actor):
    return (
        "post",
        "/api/v1/referrals/",
        {
            "case": w["case"].pk,
            "to_organisation": "yorozu-46",
            "reason": "さらに紹介",
            "topics": ["patent"],
        },
    )


def _referral_accept(w, actor):
    return "post", f"/api/v1/referrals/{w['referrals']['sent'].pk}/accept/", {}


def _referral_assign(w, actor):
    referral = w["referrals"]["accepted"]
    return (
        "post",
        f"/api/v1/referrals/{referral.pk}/assign/",
        {"assignee": actor.user.pk},
    )


def _contact_create(w, actor):
    return (
        "post",
        f"/api/v1/companies/{w['company'].pk}/contacts/",
        {"name": "佐藤 花子"},
    )


def _contact_update(w, actor):
    return "patch", f"/api/v1/contacts/{w['contact'].pk}/", {"name": "上書き 太郎"}


def _company_update(w, actor):
    return "patch", f"/api/v1/companies/{w['company'].pk}/", {"city": "書換市"}


def _consent_record(w, actor):
    return (
        "post",
        f"/api/v1/companies/{w['company'].pk}/consents/",
        {
            "scope": "organisations",
            "organisations": ["yorozu-46"],
            "obtained_on": timezone.localdate().isoformat(),
            "method": "written",
        },
    )


def _consent_withdraw(w, actor):
    company, consent = w["company"].pk, w["consent"].pk
    return "post", f"/api/v1/companies/{company}/consents/{consent}/withdraw/", {}


def _company_merge(w, actor):
    return (
        "post",
        f"/api/v1/companies/{w['company'].pk}/merge/",
        {"into": w["other_company"].pk},
    )


#                       owner  owner  sent   acc.   compl. hub    unrel. deact.
#                       staff  coord  recv   recv   recv
API_WRITES = [
    (_consultation, (201, 201, 403, 201, 403, 403, 400, 403)),
    (_outcome, (201, 201, 403, 201, 403, 403, 400, 403)),
    # The follow-up is the owner staff's: a colleague coordinator may complete it.
    (_follow_up_complete, (200, 200, 403, 403, 403, 403, 404, 403)),
    (_case_assign, (403, 200, 403, 403, 403, 403, 404, 403)),
    (_referral_send, (201, 201, 403, 201, 403, 403, 400, 403)),
    (_referral_assign, (403, 403, 403, 200, 403, 403, 404, 403)),
    (_contact_create, (201, 201, 403, 201, 403, 403, 403, 403)),
    (_contact_update, (200, 200, 403, 403, 403, 403, 404, 403)),
    (_company_update, (200, 200, 403, 200, 403, 403, 403, 403)),
    (_consent_record, (201, 201, 403, 201, 403, 403, 403, 403)),
    # Last two: they change who sees the case.
    (_consent_withdraw, (200, 200, 403, 200, 403, 403, 404, 403)),
    # Merging needs a coordinator or org admin working with both companies.
    (_company_merge, (403, 200, 403, 403, 403, 403, 403, 403)),
    # Last: accepting makes the sent receiver an accepted one.
    (_referral_accept, (403, 403, 200, 403, 403, 403, 404, 403)),
]


@pytest.mark.parametrize("who", IDENTITIES)
def test_every_api_write_answers_as_the_write_rules_say(api, world, who):
    actor = world["people"][who]
    client = api(actor)
    column = IDENTITIES.index(who)
    problems = []

    for write, expected in API_WRITES:
        method, url, body = write(world, actor)
        before = state()
        response = getattr(client, method)(url, body, format="json")
        want = expected[column]
        got = response.status_code
        where = f"{who}: {method.upper()} {url} → {got}, expected {want}"
        if got != want:
            problems.append(f"{where}: {response.content[:300]!r}")
            continue
        if got >= 400:
            if state() != before:
                problems.append(f"{where}: a refused write changed the database")
            if (
                got == 403
                and who != "deactivated"
                and response.json().get("code") != "not_permitted"
            ):
                problems.append(f"{where}: code {response.json()}")
        if got == 403 and who == "deactivated":
            assert response.json()["code"] == "no_membership"

    assert problems == [], "\n".join(problems)


def test_a_refused_write_has_a_japanese_message(api, world):
    response = api(world["people"]["hub"]).post(
        "/api/v1/outcomes/",
        {
            "case": world["case"].pk,
            "kind": "licence",
            "occurred_on": timezone.localdate().isoformat(),
        },
        format="json",
    )

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "not_permitted"
    assert "紹介を受け入れた組織" in body["detail"]


def test_the_timeline_names_who_completed_a_follow_up(api, world):
    coordinator = world["people"]["owner_coordinator"]
    api(coordinator).post(
        f"/api/v1/follow-ups/{world['follow_up'].pk}/complete/", {}, format="json"
    )

    detail = api(world["people"]["owner_staff"]).get(
        f"/api/v1/cases/{world['case'].pk}/"
    )
    follow_up = detail.json()["follow_ups"][0]
    assert follow_up["status"] == "done"
    assert follow_up["assignee"] == world["people"]["owner_staff"].user.pk
    assert follow_up["done_by"] == coordinator.user.pk

    page = _web(coordinator).get(reverse("crm:case-detail", args=[world["case"].pk]))
    assert "完了者 owner-coord" in page.content.decode()


def test_change_events_carry_old_and_new_values(api, world):
    owner = world["people"]["owner_staff"]
    api(owner).patch(
        f"/api/v1/companies/{world['company'].pk}/", {"city": "新宿区"}, format="json"
    )
    api(owner).patch(
        f"/api/v1/contacts/{world['contact'].pk}/", {"name": "山田 次郎"}, format="json"
    )

    admin = make_actor(ORG_A, "org_admin", username="owner-admin")
    events = api(admin).get("/api/v1/audit-events/", {"page_size": 200}).json()
    by_action = {e["action"]: e for e in events["results"]}
    assert by_action["company.update"]["changes"] == {"city": ["", "新宿区"]}
    assert by_action["contact.update"]["changes"] == {
        "name": ["山田 太郎", "山田 次郎"]
    }
    assert AuditEvent.objects.get(
        action="referral.accept", object_id=str(world["referrals"]["accepted"].pk)
    ).data["changes"]["status"] == ["sent", "accepted"]


def test_accepting_assigns_the_accepting_member_and_the_list_filters_by_it(api, world):
    receiver = world["people"]["sent_receiver"]
    api(receiver).post(
        f"/api/v1/referrals/{world['referrals']['sent'].pk}/accept/", {}, format="json"
    )

    mine = api(receiver).get("/api/v1/referrals/", {"assignee": "me"}).json()
    assert [r["id"] for r in mine["results"]] == [world["referrals"]["sent"].pk]
    assert mine["results"][0]["assignee"] == receiver.user.pk
    other = api(world["people"]["owner_staff"]).get(
        "/api/v1/referrals/", {"assignee": "me"}
    )
    assert other.json()["results"] == []
    bad = api(receiver).get("/api/v1/referrals/", {"assignee": "誰か"})
    assert bad.status_code == 400 and "assignee" in bad.json()


def test_a_receivers_coordinator_assigns_its_own_staff_only(api, world):
    coordinator = world["people"]["accepted_receiver"]
    colleague = make_actor(ACCEPTED_BY, "window_staff", username="accepted-staff")
    referral = world["referrals"]["accepted"]

    outsider = api(coordinator).post(
        f"/api/v1/referrals/{referral.pk}/assign/",
        {"assignee": world["people"]["owner_staff"].user.pk},
        format="json",
    )
    assert outsider.status_code == 400 and "assignee" in outsider.json()

    done = api(coordinator).post(
        f"/api/v1/referrals/{referral.pk}/assign/",
        {"assignee": colleague.user.pk},
        format="json",
    )
    assert done.status_code == 200 and done.json()["assignee"] == colleague.user.pk

    # Window staff take a referral themselves; they do not hand it to others.
    handing = api(colleague).post(
        f"/api/v1/referrals/{referral.pk}/assign/",
        {"assignee": coordinator.user.pk},
        format="json",
    )
    assert handing.status_code == 403 and handing.json()["code"] == "not_permitted"


# --- The web UI ---------------------------------------------------------------


def _web(actor) -> Client:
    client = Client()
    client.force_login(actor.user)
    return client


def _web_outcome(w, actor):
    return (
        "post",
        reverse("crm:outcome-create", args=[w["case"].pk]),
        {
            "kind": "licence",
            "occurred_on": timezone.localdate().isoformat(),
        },
    )


def _web_follow_up(w, actor):
    return (
        "post",
        reverse("crm:follow-up-complete", args=[w["follow_up"].pk]),
        {"next": "case"},
    )


def _web_refer_page(w, actor):
    return "get", reverse("crm:referral-create", args=[w["case"].pk]), None


def _web_enrol_page(w, actor):
    return "get", reverse("programs:enrolment-apply", args=[w["case"].pk]), None


def _web_assign(w, actor):
    return (
        "post",
        reverse("crm:case-assign", args=[w["case"].pk]),
        {"assignee": actor.user.pk},
    )


# 302: done (redirect back); 200 for a page that may be used.
#                       owner  owner  sent   acc.   compl. hub    unrel.
WEB_WRITES = [
    (_web_outcome, (302, 302, 403, 302, 403, 403, 404)),
    (_web_follow_up, (302, 302, 403, 403, 403, 403, 404)),
    (_web_refer_page, (200, 200, 403, 200, 403, 403, 404)),
    (_web_enrol_page, (200, 200, 403, 200, 403, 403, 404)),
]


@pytest.mark.parametrize("who", IDENTITIES[:-1])
def test_every_web_write_answers_as_the_write_rules_say(world, who):
    actor = world["people"][who]
    client = _web(actor)
    column = IDENTITIES.index(who)
    problems = []

    for write, expected in WEB_WRITES:
        method, url, body = write(world, actor)
        before = state()
        response = getattr(client, method)(url, body) if body else client.get(url)
        want = expected[column]
        if response.status_code != want:
            problems.append(f"{who}: {method} {url} → {response.status_code} ≠ {want}")
        elif response.status_code >= 400 and state() != before:
            problems.append(f"{who}: {method} {url}: refused but changed the database")

    assert problems == [], "\n".join(problems)


def test_the_case_page_shows_no_write_buttons_to_readers(world):
    url = reverse("crm:case-detail", args=[world["case"].pk])
    owner_page = _web(world["people"]["owner_staff"]).get(url).content.decode()
    hub_page = _web(world["people"]["hub"]).get(url).content.decode()
    sent_page = _web(world["people"]["sent_receiver"]).get(url).content.decode()

    log_here = f"/consultations/new/?company={world['company'].pk}"
    for marker in (log_here, "他機関へ紹介", "成果を記録", "完了にする"):
        assert marker in owner_page
        assert marker not in hub_page
    assert "閲覧のみ" in hub_page
    # The sent receiver answers the referral (受け入れる) but writes nothing else.
    assert "受け入れる" in sent_page
    assert "成果を記録" not in sent_page and log_here not in sent_page


def test_the_consultation_form_offers_only_cases_the_user_may_write_on(world):
    hub = world["people"]["hub"]
    response = _web(hub).get(
        reverse("crm:consultation-create"), {"company": world["company"].pk}
    )
    assert f"#{world['case'].pk} {world['case'].title}" not in response.content.decode()
    owner_form = _web(world["people"]["owner_staff"]).get(
        reverse("crm:consultation-create"), {"company": world["company"].pk}
    )
    assert f"#{world['case'].pk} {world['case'].title}" in owner_form.content.decode()

    before = state()
    posted = _web(hub).post(
        reverse("crm:consultation-create"),
        {
            "company": world["company"].pk,
            "case": world["case"].pk,
            "occurred_on": timezone.localdate().isoformat(),
            "occurred_time": "10:00",
            "channel": "phone",
            "duration_minutes": 15,
            "topics": ["patent"],
            "summary": "ハブが書こうとする",
        },
    )
    assert posted.status_code != 302
    assert state() == before


def test_the_inbox_shows_and_assigns_the_receiving_side(world):
    coordinator = world["people"]["accepted_receiver"]
    colleague = make_actor(ACCEPTED_BY, "window_staff", username="accepted-staff")
    referral = world["referrals"]["accepted"]
    inbox = reverse("crm:referral-list") + "?box=in"

    page = _web(coordinator).get(inbox).content.decode()
    assert "accepted-coord" in page  # accepting assigned the accepting member
    assert f'id="referral-assignee-{referral.pk}"' in page

    _web(coordinator).post(
        reverse("crm:referral-assign", args=[referral.pk]),
        {"assignee": colleague.user.pk, "next": inbox},
    )
    referral.refresh_from_db()
    assert referral.assignee_id == colleague.user.pk

    # Window staff get no picker, and cannot hand the referral to someone else.
    staff_page = _web(colleague).get(inbox).content.decode()
    assert f'id="referral-assignee-{referral.pk}"' not in staff_page
    _web(colleague).post(
        reverse("crm:referral-assign", args=[referral.pk]),
        {"assignee": coordinator.user.pk, "next": inbox},
    )
    referral.refresh_from_db()
    assert referral.assignee_id == colleague.user.pk


def test_the_board_lists_accepted_referrals_with_their_assignee(world):
    coordinator = world["people"]["accepted_receiver"]
    referral = world["referrals"]["accepted"]

    page = _web(coordinator).get(reverse("crm:board")).content.decode()

    assert f'id="received-{referral.pk}"' in page
    assert f'id="received-assignee-{referral.pk}"' in page
    # Another organisation's board does not list it.
    other = _web(world["people"]["owner_coordinator"]).get(reverse("crm:board"))
    assert f'id="received-{referral.pk}"' not in other.content.decode()
