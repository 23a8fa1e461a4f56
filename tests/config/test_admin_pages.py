"""The add, change and delete pages of every admin model answer (issue 16 Bugs).

The changelist test (test_admin_and_web.py) never opened an object: the delete
page of a consultation was a 500 because ConsultationFact.__str__ read a field
that no longer exists. Here one object of every registered model is made (a
model without one fails the test), and each of its admin pages is opened:
200, or 403 where the admin refuses the action (read-only audit trail, …).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from crm.models import Export, Notification
from crm.services.cases import outcome_record
from crm.services.consultations import consultation_create
from crm.services.referrals import referral_send
from tests.conftest import make_actor
from tests.crm.factories import CompanyFactory, ConsentFactory, ContactFactory
from tests.programs.factories import EnrolmentFactory, SupportDayFactory

MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.fixture
def one_of_each(network, superuser_actor):
    """Make at least one object of every admin model."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from knox.models import AuthToken

    user = superuser_actor.user
    staff = make_actor("inpit-window-13", "window_staff", username="admin-pages-staff")
    company = CompanyFactory(registered_by=staff.organisation)
    contact = ContactFactory(company=company, organisation=staff.organisation)
    ConsentFactory(company=company, scope="network", obtained_on=dt.date(2024, 4, 1))
    now = timezone.now()
    consultation = consultation_create(
        actor=staff,
        company=company,
        occurred_at=now - dt.timedelta(hours=2),
        channel="visit",
        duration_minutes=30,
        topics=["patent", "trade_secret"],
        summary="管理画面の確認",
        follow_up_on=timezone.localdate() + dt.timedelta(days=7),
        now=now,
    )
    outcome_record(
        actor=staff,
        case=consultation.case,
        kind="filing",
        occurred_on=timezone.localdate(),
        reference="特願2026-000001",
        today=timezone.localdate(),
    )
    referral_send(
        actor=staff,
        case=consultation.case,
        to_organisation=network["yorozu-13"],
        reason="経営面の支援",
        topics=["ip_management"],
        contacts=[contact],
        now=now,
    )
    Notification.objects.get_or_create(
        recipient=user, kind="test", defaults={"message": "確認"}
    )
    Export.objects.create(
        requested_by=user,
        organisation=staff.organisation,
        role="manager",
        kind="consultations",
        fiscal_year=2026,
        format="csv",
        expires_at=now + dt.timedelta(days=7),
    )
    enrolment = EnrolmentFactory(company=company, status="active")
    SupportDayFactory(enrolment=enrolment)
    Group.objects.create(name="管理画面テスト")
    AuthToken.objects.create(user=user)
    # Devices of another user: a superuser with a device must verify it first.
    TOTPDevice.objects.create(user=staff.user, name="totp")
    StaticDevice.objects.create(user=staff.user, name="static")
    interval = IntervalSchedule.objects.create(every=1, period="days")
    PeriodicTask.objects.get_or_create(
        name="admin-pages-task", defaults={"task": "x", "interval": interval}
    )
    ClockedSchedule.objects.create(clocked_time=now)
    CrontabSchedule.objects.get_or_create(minute="5")
    SolarSchedule.objects.create(event="sunrise", latitude=35.68, longitude=139.76)
    AccessAttempt.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", failures_since_start=1
    )
    AccessLog.objects.create(username="x", ip_address="127.0.0.1", user_agent="t")
    AccessFailureLog.objects.create(
        username="x", ip_address="127.0.0.1", user_agent="t", locked_out=False
    )
    from support_network.models import IdentityProvider, SsoIdentity

    provider = IdentityProvider.objects.create(
        organisation=staff.organisation,
        issuer="https://idp.example.jp",
        client_id="crm",
        client_secret_env="CRM_SSO_ADMIN_PAGES_SECRET",
    )
    provider.groups.create(
        group="crm-staff", organisation=staff.organisation, role="window_staff"
    )
    SsoIdentity.objects.create(provider=provider, subject="admin-pages", user=staff.user)
    return consultation


def _allowed(model_admin, action: str, user, obj=None) -> bool:
    request = RequestFactory().get("/")
    request.user = user
    if action == "add":
        return model_admin.has_add_permission(request)
    if action == "delete":
        return model_admin.has_delete_permission(request, obj)
    return model_admin.has_view_or_change_permission(request, obj)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_add_change_and_delete_pages_of_every_admin_model(
    client, one_of_each, superuser_actor, model
):
    user = superuser_actor.user
    client.force_login(user)
    model_admin = admin.site._registry[model]
    opts = model._meta
    obj = model._default_manager.order_by("pk").first()
    assert obj is not None, f"the data set has no {opts.label}"
    pages = {
        "add": reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
        "change": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        ),
        "delete": reverse(
            f"admin:{opts.app_label}_{opts.model_name}_delete", args=[obj.pk]
        ),
    }

    for action, url in pages.items():
        response = client.get(url)
        expected = 200 if _allowed(model_admin, action, user, obj) else 403
        assert response.status_code == expected, (action, url, response.status_code)


def test_delete_page_of_a_consultation_lists_its_statistics_facts(
    client, one_of_each, superuser_actor
):
    client.force_login(superuser_actor.user)

    response = client.get(
        reverse("admin:crm_consultation_delete", args=[one_of_each.pk])
    )

    assert response.status_code == 200
    html = response.content.decode()
    # The facts the deletion takes along are named by consultation and topic.
    assert f"{one_of_each.pk} patent" in html
    assert f"{one_of_each.pk} trade_secret" in html
