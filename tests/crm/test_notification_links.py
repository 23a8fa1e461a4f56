"""`/notifications/` links every notification the way its e-mail does (issue 16 Bugs).

The page used to build its own links and knew only cases and referrals: a
follow-up reminder, the coordinators' digest and a program milestone were
shown unlinked although their e-mails linked them. The page now reads the one
link registry (crm.services.notification_emails.notification_path).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from crm.models import FollowUp, Notification
from crm.services.notification_emails import notification_url
from tests.crm.factories import CaseFactory, ReferralFactory
from tests.programs.factories import EnrolmentFactory


@pytest.fixture
def notifications(staff_a, network):
    user = staff_a.user
    case = CaseFactory(organisation=staff_a.organisation, created_by=user)
    referral = ReferralFactory(
        case=CaseFactory(organisation=staff_a.organisation),
        to_organisation=network["yorozu-13"],
    )
    follow_up = FollowUp.objects.create(
        case=case,
        organisation=staff_a.organisation,
        assignee=user,
        due_on=dt.date(2026, 12, 10),
        note="確認",
    )
    enrolment = EnrolmentFactory()
    objects = {
        "case.assigned": ("case", case.pk),
        "referral.received": ("referral", referral.pk),
        "follow_up.reminder": ("followup", follow_up.pk),
        "digest.coordinator": ("membership", staff_a.membership.pk),
        "enrolment.milestone": ("enrolment", enrolment.pk),
    }
    made = {}
    for kind, (object_type, pk) in objects.items():
        made[kind] = Notification.objects.create(
            recipient=user,
            kind=kind,
            message=f"通知 {kind}",
            object_type=object_type,
            object_id=str(pk),
        )
    return made, {
        "case.assigned": reverse("crm:case-detail", args=[case.pk]),
        "referral.received": reverse("crm:case-detail", args=[referral.case_id]),
        "follow_up.reminder": reverse("crm:case-detail", args=[case.pk]),
        "digest.coordinator": reverse("crm:board"),
        "enrolment.milestone": f"/enrolments/{enrolment.pk}/",
    }


def _links(html: str) -> dict[str, str]:
    return {
        text: href
        for href, text in re.findall(r'<a href="([^"]+)">(通知 [^<]+)</a>', html)
    }


def test_every_notification_links_where_its_email_links(staff_a, notifications):
    made, expected = notifications
    client = Client()
    client.force_login(staff_a.user)

    html = client.get(reverse("crm:notification-list")).content.decode()

    links = _links(html)
    site = str(settings.CRM_SITE_URL).rstrip("/")
    for kind, notification in made.items():
        assert links.get(f"通知 {kind}") == expected[kind], kind
        assert notification_url(notification) == site + expected[kind], kind


def test_a_notification_about_nothing_stays_unlinked(staff_a):
    Notification.objects.create(
        recipient=staff_a.user, kind="other", message="通知 なし", object_type=""
    )
    client = Client()
    client.force_login(staff_a.user)

    html = client.get(reverse("crm:notification-list")).content.decode()

    assert "通知 なし" in html
    assert "通知 なし" not in _links(html)
