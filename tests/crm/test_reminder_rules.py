"""Per-organisation reminder rules (Organisation.reminder_rules, issue 5 "Rules").

settings.CRM_REMINDERS is the network default; an organisation may override
keys of it. The overrides are checked (Japanese messages) in the model, in
the service helper and in the admin form, and the sweep applies the rules of
the organisation concerned: the follow-up's organisation, the referral's
receiver. Same frozen day, different organisations, different reminders.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from crm.models import FollowUp, Notification, Referral
from crm.services.reminders import reminders_sweep
from support_network.calendar import JST
from support_network.errors import ValidationFailed
from support_network.models import Organisation
from support_network.reminder_rules import reminder_rules, reminder_rules_clean
from tests.conftest import make_actor
from tests.crm.factories import CaseFactory, ReferralFactory

A = "inpit-window-13"  # 東京: overrides its rules in these tests
B = "inpit-window-14"  # 神奈川: keeps the network defaults


def jst(y, m, d, hh=9, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=JST)


def sweep(moment: datetime) -> dict:
    return reminders_sweep(now=moment).as_dict()


def override(code: str, **rules) -> Organisation:
    org = Organisation.objects.get(code=code)
    org.reminder_rules = rules
    org.full_clean()
    org.save()
    return org


@pytest.fixture
def people(network):
    return {
        code: {
            "staff": make_actor(code, "window_staff", f"rules-staff-{code}"),
            "manager": make_actor(code, "manager", f"rules-manager-{code}"),
        }
        for code in (A, B)
    }


def follow_up(people, code: str, due_on: date) -> FollowUp:
    staff = people[code]["staff"]
    case = CaseFactory(organisation=staff.organisation, created_by=staff.user)
    return FollowUp.objects.create(
        case=case,
        organisation=case.organisation,
        assignee=staff.user,
        due_on=due_on,
        note="書類確認",
    )


def kinds_for(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user)
        .order_by("pk")
        .values_list("kind", flat=True)
    )


# --- validation -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"FOLLOW_UP_MAX_REMINDER": 5}, "設定できる項目ではありません"),
        ({"FOLLOW_UP_MAX_REMINDERS": 0}, "1以上20以下の整数"),
        ({"FOLLOW_UP_MAX_REMINDERS": "5"}, "1以上20以下の整数"),
        ({"FOLLOW_UP_MAX_REMINDERS": True}, "1以上20以下の整数"),
        ({"REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS": -1}, "1以上60以下の整数"),
        ({"PROGRAM_DAY_QUOTA_ALERT_PERCENT": 120}, "1以上100以下の整数"),
        ({"SEND_AT": "9時"}, "HH:MM"),
        ({"SEND_AT": "25:00"}, "HH:MM"),
        ({"FOLLOW_UP_ESCALATE_ROLES": ["boss"]}, "役割のリスト"),
        ({"FOLLOW_UP_ESCALATE_ROLES": []}, "役割のリスト"),
        ({"REFERRAL_REMIND_AFTER_BUSINESS_DAYS": 5}, "この順に大きく"),
        (["FOLLOW_UP_MAX_REMINDERS", 5], "JSON オブジェクト"),
    ],
)
def test_bad_overrides_are_refused_in_japanese(network, rules, message):
    org = Organisation.objects.get(code=A)
    org.reminder_rules = rules
    with pytest.raises(ValidationError) as model_error:
        org.full_clean()
    assert message in " ".join(model_error.value.messages)
    with pytest.raises(ValidationFailed) as service_error:
        reminder_rules_clean(rules)
    assert service_error.value.field == "reminder_rules"
    assert message in service_error.value.detail


def test_good_overrides_are_cleaned_and_merged_over_the_defaults(network):
    assert reminder_rules_clean(
        {
            "SEND_AT": "8:30",
            "FOLLOW_UP_MAX_REMINDERS": 5,
            "FOLLOW_UP_ESCALATE_ROLES": ["manager", "manager", "org_admin"],
        }
    ) == {
        "SEND_AT": "08:30",
        "FOLLOW_UP_MAX_REMINDERS": 5,
        "FOLLOW_UP_ESCALATE_ROLES": ["manager", "org_admin"],
    }
    org = override(A, FOLLOW_UP_MAX_REMINDERS=5, REFERRAL_REMIND_AFTER_BUSINESS_DAYS=1)
    rules = reminder_rules(org)
    assert rules["FOLLOW_UP_MAX_REMINDERS"] == 5
    assert rules["REFERRAL_REMIND_AFTER_BUSINESS_DAYS"] == 1
    assert rules["REFERRAL_EXPIRE_AFTER_BUSINESS_DAYS"] == 10  # the default
    assert reminder_rules(Organisation.objects.get(code=B)) == reminder_rules()


def _admin_form(data: dict, org: Organisation, superuser):
    model_admin = admin_site._registry[Organisation]
    request = RequestFactory().get("/")
    request.user = superuser
    form_class = model_admin.get_form(request, org)
    initial = {
        f: v
        for f, v in form_class(instance=org).initial.items()
        if f in form_class.base_fields
    }
    initial["expertise"] = [t.pk for t in org.expertise.all()]
    return form_class(data={**initial, **data}, instance=org)


def test_the_admin_form_checks_overrides_and_shows_the_rules_in_force(
    network, superuser_actor, client
):
    org = Organisation.objects.get(code=A)
    bad = _admin_form(
        {"reminder_rules": '{"FOLLOW_UP_MAX_REMINDERS": 0, "LUNCH": 1}'},
        org,
        superuser_actor.user,
    )
    assert not bad.is_valid()
    errors = " ".join(bad.errors["reminder_rules"])
    assert "1以上20以下の整数" in errors
    assert "「LUNCH」は設定できる項目ではありません" in errors

    good = _admin_form(
        {"reminder_rules": '{"FOLLOW_UP_MAX_REMINDERS": 5}'}, org, superuser_actor.user
    )
    assert good.is_valid(), good.errors
    good.save()
    org.refresh_from_db()
    assert org.reminder_rules == {"FOLLOW_UP_MAX_REMINDERS": 5}

    client.force_login(superuser_actor.user)
    page = client.get(f"/admin/support_network/organisation/{org.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "リマインドの個別設定" in text
    assert "適用中のリマインド設定" in text
    assert "FOLLOW_UP_MAX_REMINDERS: 5（この組織）" in text
    assert "REFERRAL_REMIND_AFTER_BUSINESS_DAYS: 2（全国共通）" in text


# --- the sweep applies them -------------------------------------------------------------


def test_a_follow_up_repeat_count_override_escalates_earlier_on_the_same_day(people):
    override(A, FOLLOW_UP_MAX_REMINDERS=1)
    a = follow_up(people, A, date(2026, 4, 28))
    b = follow_up(people, B, date(2026, 4, 28))

    assert sweep(jst(2026, 4, 28)) == {"follow_up.reminder": 2}
    # Thursday 4/30 (4/29 is a holiday): A has had its one reminder and is
    # escalated; B gets its second reminder.
    assert sweep(jst(2026, 4, 30)) == {
        "follow_up.escalation": 1,
        "follow_up.reminder": 1,
    }
    assert kinds_for(people[A]["staff"].user) == ["follow_up.reminder"]
    assert kinds_for(people[A]["manager"].user) == ["follow_up.escalation"]
    assert kinds_for(people[B]["staff"].user) == ["follow_up.reminder"] * 2
    assert kinds_for(people[B]["manager"].user) == []
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.reminded_count, a.escalated_at) == (1, jst(2026, 4, 30))
    assert (b.reminded_count, b.escalated_at) == (2, None)


def test_an_organisation_may_escalate_to_other_roles(people):
    override(A, FOLLOW_UP_MAX_REMINDERS=1, FOLLOW_UP_ESCALATE_ROLES=["org_admin"])
    admin = make_actor(A, "org_admin", "rules-admin")
    follow_up(people, A, date(2026, 4, 28))

    sweep(jst(2026, 4, 28))
    assert sweep(jst(2026, 4, 30)) == {"follow_up.escalation": 1}
    assert kinds_for(admin.user) == ["follow_up.escalation"]
    assert kinds_for(people[A]["manager"].user) == []


def test_a_send_time_override_reminds_that_organisation_earlier(people):
    override(A, SEND_AT="08:00")
    follow_up(people, A, date(2026, 4, 28))
    follow_up(people, B, date(2026, 4, 28))

    result = reminders_sweep(now=jst(2026, 4, 28, 8, 30))
    assert result.as_dict() == {"follow_up.reminder": 1}
    assert result.is_office_hours is False  # the network's 09:00 is not yet
    assert kinds_for(people[A]["staff"].user) == ["follow_up.reminder"]
    assert sweep(jst(2026, 4, 28, 9, 0)) == {"follow_up.reminder": 1}
    assert kinds_for(people[B]["staff"].user) == ["follow_up.reminder"]


def test_referral_reminders_follow_the_receiving_organisations_rules(people):
    # The receiver A answers faster by its own rule: reminded after 1
    # business day; B, on the defaults, after 2.
    override(
        A,
        REFERRAL_REMIND_AFTER_BUSINESS_DAYS=1,
        REFERRAL_ESCALATE_AFTER_BUSINESS_DAYS=2,
    )
    sender = make_actor("yorozu-13", "window_staff", "rules-sender")
    sent_at = jst(2026, 4, 24, 14)  # Friday
    referrals = {}
    for code in (A, B):
        case = CaseFactory(organisation=sender.organisation, created_by=sender.user)
        referrals[code] = ReferralFactory(
            case=case,
            to_organisation=people[code]["staff"].organisation,
            sent_by=sender.user,
            sent_at=sent_at,
            respond_by=date(2026, 4, 30),
        )

    assert sweep(jst(2026, 4, 27)) == {"referral.reminder": 1}  # A only
    assert kinds_for(people[A]["staff"].user) == ["referral.reminder"]
    assert kinds_for(people[B]["staff"].user) == []
    assert sweep(jst(2026, 4, 28)) == {
        "referral.escalation": 1,  # A after 2 business days
        "referral.reminder": 1,  # B after 2
    }
    assert kinds_for(people[B]["staff"].user) == ["referral.reminder"]
    a = Referral.objects.get(pk=referrals[A].pk)
    assert (a.reminded_at, a.escalated_at) == (jst(2026, 4, 27), jst(2026, 4, 28))
    # The sender's own overrides play no part: only the receiver's count.
    override("yorozu-13", REFERRAL_REMIND_AFTER_BUSINESS_DAYS=1)
    assert sweep(jst(2026, 4, 28, 15)) == {}


def test_overrides_written_around_the_checks_are_ignored_not_fatal(people, caplog):
    Organisation.objects.filter(code=A).update(
        reminder_rules={"FOLLOW_UP_MAX_REMINDERS": "many"}
    )
    follow_up(people, A, date(2026, 4, 28))

    assert sweep(jst(2026, 4, 28)) == {"follow_up.reminder": 1}
    assert "reminder_rules ignored" in caplog.text
    assert reminder_rules(Organisation.objects.get(code=A)) == reminder_rules()
