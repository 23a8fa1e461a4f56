"""manage.py create_user USERNAME --organisation CODE --role ROLE [--password] [--email]."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from support_network.models import Membership


def run(*args):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


def test_creates_a_user_with_a_membership_who_can_log_in(network):
    output = run(
        "suzuki",
        "--organisation",
        "yorozu-13",
        "--role",
        "coordinator",
        "--password",
        "pw-12345",
        "--email",
        "s@example.invalid",
    )

    membership = Membership.objects.get(user__username="suzuki")
    assert (membership.organisation.code, membership.role) == (
        "yorozu-13",
        "coordinator",
    )
    assert membership.user.email == "s@example.invalid"
    login = RequestFactory().post("/login/")  # django-axes needs the request
    assert authenticate(login, username="suzuki", password="pw-12345") == (
        membership.user
    )
    assert "created suzuki" in output


def test_running_again_updates_the_role_and_adds_other_memberships(network):
    run("suzuki", "--organisation", "yorozu-13", "--role", "window_staff")
    run("suzuki", "--organisation", "yorozu-13", "--role", "manager")
    run("suzuki", "--organisation", "bureau-kanto", "--role", "coordinator")

    rows = sorted(
        Membership.objects.filter(user__username="suzuki").values_list(
            "organisation__code", "role"
        )
    )
    assert rows == [("bureau-kanto", "coordinator"), ("yorozu-13", "manager")]


def test_unknown_organisation_is_a_clear_error_and_creates_nothing(
    network, django_user_model
):
    with pytest.raises(CommandError, match="組織コード「nowhere」は登録されていません"):
        run("suzuki", "--organisation", "nowhere", "--role", "manager")

    assert not django_user_model.objects.filter(username="suzuki").exists()


def test_unknown_role_is_refused(network):
    with pytest.raises(CommandError):
        run("suzuki", "--organisation", "yorozu-13", "--role", "boss")
