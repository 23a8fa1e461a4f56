"""Who is told, and what: every notification obeys "Who sees what" (issue 26 items 1–2).

For every notification kind, each recipient must be able to open the
notification's object (one of their actors' `*_visible_to` selectors holds
it) and, for a confidential case, the text (in-app and e-mail) must carry no
company name, case title or free text — only the case number, dates,
organisations and the member in charge.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core import mail

from crm.models import Case, FollowUp, Notification, Referral
from crm.selectors.visibility import (
    cases_visible_to,
    follow_ups_visible_to,
    referral_records_visible_to,
)
from crm.services.assignment import case_assign
from crm.services.digest import coordinator_digest_send
from crm.services.referral_transitions import (
    referral_accept,
    referral_assign,
    referral_cancel,
    referral_complete,
    referral_decline,
)
from crm.services.referrals import referral_send
from crm.services.reminders import reminders_sweep
from support_network.actors import Actor
from support_network.calendar import JST
from support_network.models import Membership
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ConsentFactory, ReferralFactory

OWNER = "inpit-window-27"  # Osaka
RECEIVER = "yorozu-27"  # Osaka: the same region
HUB = "bureau-kinki"  # 近畿経済産業局: covers Osaka

COMPANY = "株式会社ひみつ技研"
TITLE = "HUBTEST-SECRET 営業秘密の相談"
NOTE = "HUBTEST-SECRET 製法の流出の件"
SECRETS = (COMPANY, "HUBTEST-SECRET", "営業秘密", "製法")

SELECTORS = {
    "case": cases_visible_to,
    "followup": follow_ups_visible_to,
    "referral": referral_records_visible_to,
    "membership": lambda actor: Membership.objects.filter(user_id=actor.user.pk),
}


def jst(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def actors_of(user) -> list[Actor]:
    return [
        Actor(user=m.user, membership=m)
        for m in Membership.objects.filter(user=user, is_active=True).select_related(
            "user", "organisation"
        )
    ]


def may_open(n: Notification) -> bool:
    selector = SELECTORS[n.object_type]
    return any(
        selector(actor).filter(pk=int(n.object_id)).exists()
        for actor in actors_of(n.recipient)
    )


def case_of(n: Notification) -> Case | None:
    pk = int(n.object_id)
    if n.object_type == "case":
        return Case.objects.get(pk=pk)
    if n.object_type == "followup":
        return FollowUp.objects.get(pk=pk).case
    if n.object_type == "referral":
        return Referral.objects.get(pk=pk).case
    return None


def check_every_notification() -> list[Notification]:
    """Assert the rule for every notification recorded, and its e-mail copy."""
    rows = list(Notification.objects.select_related("recipient").order_by("pk"))
    for n in rows:
        assert may_open(n), (n.kind, n.recipient.username, n.message)
        case = case_of(n)
        if case is not None and case.is_confidential:
            for secret in SECRETS:
                assert secret not in n.message, (n.kind, n.recipient.username)
            assert f"No.{case.pk}" in n.message, n.kind
    for message in mail.outbox:
        # An e-mail copy is the notification's text: the same rule.
        assert any(message.body.startswith(n.message) for n in rows), message.body
    return rows


def told(kind: str) -> set[str]:
    return set(
        Notification.objects.filter(kind=kind).values_list(
            "recipient__username", flat=True
        )
    )


@pytest.fixture
def people(network):
    roles = {
        "staff": (OWNER, "window_staff"),
        "staff2": (OWNER, "window_staff"),
        "coordinator": (OWNER, "coordinator"),
        "manager": (OWNER, "manager"),
        "admin": (OWNER, "org_admin"),
        "expert": (OWNER, "expert"),
        "r_staff": (RECEIVER, "window_staff"),
        "r_coordinator": (RECEIVER, "coordinator"),
        "r_manager": (RECEIVER, "manager"),
        "hub": (HUB, "coordinator"),
        "kanto": ("bureau-kanto", "coordinator"),
    }
    found = {}
    for name, (code, role) in roles.items():
        found[name] = make_actor(code, role, f"nv-{name}")
        found[name].user.email = f"nv-{name}@example.invalid"
        found[name].user.save(update_fields=["email"])
    return found


def make_case(people, network, *, confidential: bool, consent: bool = False) -> Case:
    case = CaseFactory(
        organisation=network[OWNER],
        created_by=people["staff"].user,
        assignee=people["staff"].user,
        company__name=COMPANY,
        company__prefecture_id="27",
        title=TITLE,
        is_confidential=confidential,
    )
    if consent:
        ConsentFactory(company=case.company, organisation=network[OWNER])
    return case


def overdue_follow_up(people, case, assignee="staff") -> FollowUp:
    return FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=people[assignee].user,
        due_on=date(2026, 4, 28),
        note=NOTE,
    )


def walk_follow_up_to_escalation() -> None:
    # Reminded 4/28, 4/30, 5/1 (3 times), escalated 5/7 (tests/crm/test_reminders.py).
    for moment in (jst(2026, 4, 28), jst(2026, 4, 30), jst(2026, 5, 1)):
        reminders_sweep(now=moment)
    reminders_sweep(now=jst(2026, 5, 7))


# --- item 1: follow-ups ---------------------------------------------------------


def test_a_confidential_follow_up_escalates_to_managers_not_to_other_coordinators(
    people, network, django_capture_on_commit_callbacks
):
    case = make_case(people, network, confidential=True, consent=True)
    overdue_follow_up(people, case)

    with django_capture_on_commit_callbacks(execute=True):
        walk_follow_up_to_escalation()

    # Before the fix the coordinator (who gets 404 on the case) was told the
    # company and the note; now only those rule 4 admits are told.
    assert told("follow_up.escalation") == {"nv-manager"}
    assert told("follow_up.reminder") == {"nv-staff"}
    escalation = Notification.objects.get(kind="follow_up.escalation")
    assert "機密案件" in escalation.message
    assert "2026/4/28" in escalation.message
    assert "nv-staff" in escalation.message  # who is in charge
    check_every_notification()
    assert mail.outbox, "the e-mail copies were sent"
    for message in mail.outbox:
        for secret in SECRETS:
            assert secret not in message.body


def test_a_coordinator_assigned_to_the_confidential_case_is_told(people, network):
    case = make_case(people, network, confidential=True)
    Case.objects.filter(pk=case.pk).update(assignee=people["coordinator"].user)
    overdue_follow_up(people, case)

    walk_follow_up_to_escalation()

    assert told("follow_up.escalation") == {"nv-manager", "nv-coordinator"}
    check_every_notification()


def test_without_managers_the_org_admins_are_told_of_a_confidential_escalation(
    people, network
):
    case = make_case(people, network, confidential=True)
    Membership.objects.filter(user=people["manager"].user).update(is_active=False)
    overdue_follow_up(people, case)

    walk_follow_up_to_escalation()

    assert told("follow_up.escalation") == {"nv-admin"}
    check_every_notification()


def test_an_ordinary_follow_up_still_tells_coordinators_with_its_text(people, network):
    case = make_case(people, network, confidential=False)
    overdue_follow_up(people, case)

    walk_follow_up_to_escalation()

    assert told("follow_up.escalation") == {"nv-manager", "nv-coordinator"}
    escalation = Notification.objects.filter(kind="follow_up.escalation").first()
    assert NOTE in escalation.message and TITLE in escalation.message
    check_every_notification()


def test_a_follow_up_assignee_who_may_not_see_the_case_is_not_reminded(people, network):
    # A follow-up on a confidential case assigned to another window staff
    # member, who is not the case's assignee: the follow-up does not exist
    # for them, so they are not told of it; the escalation reaches the leads.
    case = make_case(people, network, confidential=True)
    overdue_follow_up(people, case, assignee="staff2")

    walk_follow_up_to_escalation()

    assert told("follow_up.reminder") == set()
    assert told("follow_up.escalation") == {"nv-manager"}
    check_every_notification()


# --- item 2: referral escalations ------------------------------------------------


def unanswered_referral(people, case) -> Referral:
    sent = jst(2026, 4, 24, 14)
    return ReferralFactory(
        case=case,
        to_organisation=people["r_staff"].organisation,
        sent_by=people["staff"].user,
        sent_at=sent,
        respond_by=sent.date(),
    )


def escalate() -> None:
    # Sent Fri 4/24: reminder 4/28 (day 2), escalation 4/30 (day 3).
    reminders_sweep(now=jst(2026, 4, 28))
    reminders_sweep(now=jst(2026, 4, 30))


def test_referral_escalation_goes_to_the_receivers_leads_and_a_hub_that_may_see(
    people, network
):
    case = make_case(people, network, confidential=False, consent=True)
    unanswered_referral(people, case)

    escalate()

    assert told("referral.escalation") == {"nv-r_coordinator", "nv-r_manager", "nv-hub"}
    check_every_notification()


def test_referral_escalation_skips_a_hub_without_network_consent(people, network):
    case = make_case(people, network, confidential=False, consent=False)
    unanswered_referral(people, case)

    escalate()

    # Before the fix 近畿経済産業局 was told of a case it gets 404 on.
    assert "nv-hub" not in told("referral.escalation")
    assert told("referral.escalation") == {"nv-r_coordinator", "nv-r_manager"}
    check_every_notification()


def test_referral_escalation_of_a_confidential_case_never_reaches_a_hub(
    people, network
):
    case = make_case(people, network, confidential=True, consent=True)
    unanswered_referral(people, case)

    escalate()

    assert told("referral.escalation") == {"nv-r_coordinator", "nv-r_manager"}
    assert told("referral.reminder") == {"nv-r_staff", "nv-r_coordinator"}
    check_every_notification()


# --- every other kind: referral life cycle, assignment, digest -------------------


def sent_referral(people, case, network) -> Referral:
    return referral_send(
        actor=people["staff"],
        case=case,
        to_organisation=network[RECEIVER],
        reason="知財の助言 " + NOTE,
        topics=["patent"],
    )


@pytest.mark.parametrize("confidential", [True, False])
def test_the_referral_life_cycle_tells_only_who_may_see_it(
    people, network, confidential
):
    case = make_case(people, network, confidential=confidential, consent=True)
    referral = sent_referral(people, case, network)
    referral_accept(actor=people["r_staff"], referral=referral)
    referral_assign(
        actor=people["r_manager"],
        referral=referral,
        assignee=people["r_coordinator"].user,
    )
    referral_complete(
        actor=people["r_staff"], referral=referral, outcome_note="結果 " + NOTE
    )
    second = sent_referral(people, case, network)
    referral_decline(actor=people["r_staff"], referral=second, note=NOTE)
    third = sent_referral(people, case, network)
    referral_cancel(actor=people["staff"], referral=third, note=NOTE)
    fourth = sent_referral(people, case, network)
    Referral.objects.filter(pk=fourth.pk).update(sent_at=jst(2026, 4, 1))
    reminders_sweep(now=jst(2026, 4, 30))  # reminder, escalation and expiry

    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert {
        "referral.sent",
        "referral.accepted",
        "referral.assigned",
        "referral.completed",
        "referral.declined",
        "referral.cancelled",
        "referral.expired",
    } <= kinds
    rows = check_every_notification()
    if not confidential:
        assert any(COMPANY in n.message for n in rows)


@pytest.mark.parametrize("confidential", [True, False])
def test_case_assignment_tells_the_new_assignee_only_what_they_may_see(
    people, network, confidential
):
    case = make_case(people, network, confidential=confidential)
    case_assign(
        actor=people["manager"], case=case, assignee=people["coordinator"].user
    )

    assert told("case.assigned") == {"nv-coordinator"}
    n = Notification.objects.get(kind="case.assigned")
    assert (TITLE in n.message) is not confidential
    check_every_notification()


def test_the_digest_names_no_confidential_case(people, network):
    case = make_case(people, network, confidential=True)
    Case.objects.filter(pk=case.pk).update(assignee=people["coordinator"].user)
    overdue_follow_up(people, case, assignee="coordinator")
    other = make_case(people, network, confidential=False)
    FollowUp.objects.create(
        case=other,
        organisation=other.organisation,
        assignee=people["staff"].user,
        due_on=date(2026, 4, 28),
        note="普通の確認",
    )

    coordinator_digest_send(now=jst(2026, 5, 11, 8))  # Monday

    digest = Notification.objects.get(
        kind="digest.coordinator", recipient=people["coordinator"].user
    )
    assert f"機密案件（案件 No.{case.pk}）" in digest.message
    assert "普通の確認" in digest.message
    assert NOTE not in digest.message and "HUBTEST-SECRET" not in digest.message
    for n in Notification.objects.filter(kind="digest.coordinator"):
        assert may_open(n)


# --- program milestones (programs registers its audience) -----------------------


@pytest.mark.parametrize("confidential", [True, False])
def test_a_program_milestone_tells_only_who_may_see_the_enrolment(
    network, confidential
):
    from programs.models import Enrolment
    from programs.selectors import enrolments_visible_to
    from tests.programs.factories import (
        EnrolmentFactory,
        ProgramRoundFactory,
        program,
    )

    SELECTORS["enrolment"] = enrolments_visible_to
    applicant = "inpit-window-13"
    staff = make_actor(applicant, "window_staff", "pm-staff")
    make_actor(applicant, "coordinator", "pm-coordinator")
    make_actor(applicant, "manager", "pm-manager")
    make_actor("inpit", "coordinator", "pm-operator")
    case = CaseFactory(
        organisation=network[applicant],
        created_by=staff.user,
        assignee=staff.user,
        is_confidential=confidential,
    )
    EnrolmentFactory(
        round=ProgramRoundFactory(program=program("ipas"), fiscal_year=2026),
        company=case.company,
        case=case,
        started_on=date(2026, 1, 12),
        ends_on=date(2026, 6, 12),
        status="active",
    )

    reminders_sweep(now=jst(2026, 5, 29, 9))  # IPAS ends in 14 days

    expected = {"pm-operator", "pm-manager"}
    if not confidential:
        expected.add("pm-coordinator")  # sees the ordinary case
    assert told("program.ipas_end") == expected
    for n in Notification.objects.filter(kind="program.ipas_end"):
        assert may_open(n), n.recipient.username
    assert Enrolment.objects.count() == 1


# --- set-based: no query per recipient ------------------------------------------


def test_the_visibility_check_costs_no_query_per_recipient_or_row(network):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sweep_queries(users: int, rows: int) -> int:
        FollowUp.objects.all().delete()
        Notification.objects.all().delete()
        staff = [
            make_actor(OWNER, "window_staff", f"nq-{users}-{i}") for i in range(users)
        ]
        case = CaseFactory(organisation=network[OWNER], created_by=staff[0].user)
        FollowUp.objects.bulk_create(
            FollowUp(
                case=case,
                organisation=case.organisation,
                assignee=staff[i % users].user,
                due_on=date(2026, 4, 28),
                note=f"確認 {i}",
            )
            for i in range(rows)
        )
        with CaptureQueriesContext(connection) as queries:
            reminders_sweep(now=jst(2026, 4, 28))
        assert Notification.objects.filter(kind="follow_up.reminder").count() == rows
        return len(queries)

    small = sweep_queries(users=3, rows=30)
    large = sweep_queries(users=30, rows=300)
    assert large == small


# --- rows recorded before the fix ------------------------------------------------


def test_notifications_redact_cleans_what_the_old_code_recorded(people, network):
    from io import StringIO

    from django.core.management import call_command

    secret_case = make_case(people, network, confidential=True)
    secret = overdue_follow_up(people, secret_case)
    plain_case = make_case(people, network, confidential=False)
    plain = overdue_follow_up(people, plain_case)
    leaked = f"nv-staff さんのフォローアップが期日を過ぎています: {TITLE} {NOTE}"

    def row(who, follow_up, message=leaked):
        return Notification.objects.create(
            recipient=people[who].user,
            kind="follow_up.escalation",
            message=message,
            object_type="followup",
            object_id=str(follow_up.pk),
        )

    # What the old sweep wrote: the coordinator, who may not see the case.
    to_coordinator = row("coordinator", secret)
    to_manager = row("manager", secret)
    ordinary = row("coordinator", plain)

    out = StringIO()
    call_command("notifications_redact", stdout=out)

    assert not Notification.objects.filter(pk=to_coordinator.pk).exists()
    to_manager.refresh_from_db()
    assert f"No.{secret_case.pk}" in to_manager.message
    for text in SECRETS:
        assert text not in to_manager.message
    ordinary.refresh_from_db()
    assert ordinary.message == leaked  # an ordinary case keeps its text
    assert "削除 1 件" in out.getvalue() and "置き換え 1 件" in out.getvalue()
    check_every_notification()

    call_command("notifications_redact", stdout=(again := StringIO()))
    assert "削除 0 件" in again.getvalue() and "置き換え 0 件" in again.getvalue()
