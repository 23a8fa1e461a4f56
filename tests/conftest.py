"""Shared fixtures: the real PostgreSQL and Redis, the seeded network, personas.

Personas (STYLE.md §8): window staff of organisation A (INPIT 東京都窓口)
and of organisation B (よろず 大阪府), a coordinator of A's hub (関東経済産業局),
a coordinator of an unrelated hub (近畿経済産業局), a manager of A, an expert of A,
and a superuser.
"""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from support_network.actors import Actor
from support_network.models import Organisation
from support_network.services.network import user_create_or_update


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def pytest_sessionstart(session):
    """Fail loudly when PostgreSQL or Redis is missing: the suite never fakes them."""
    missing = [
        name
        for name, port in (("PostgreSQL", 5432), ("Redis", 6379))
        if not _reachable("127.0.0.1", port)
    ]
    if missing:
        pytest.exit(
            f"{' and '.join(missing)} not reachable on 127.0.0.1: the tests need the real "
            "services (see README 'Tests').",
            returncode=3,
        )


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "celery_worker: the test sends tasks to a real broker and worker "
        "(tasks are not run in-process)",
    )


@pytest.fixture(autouse=True)
def celery_tasks_in_process(request):
    """Run the tasks the code under test queues in this process, as a worker would.

    Notifications queue their e-mails on `crm.notification_email` after
    commit; with no worker in a plain test nothing would consume them, and
    they would pile up in the shared Redis. Celery's eager mode runs the
    real task (claim, send, retries) at `apply_async`, so mail.outbox shows
    what a worker would have sent. Tests marked `celery_worker` talk to a
    real broker and worker instead.
    """
    if request.node.get_closest_marker("celery_worker"):
        yield
        return
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Create the test database once and load the network seeds into it."""
    with django_db_blocker.unblock():
        call_command("seed_network", verbosity=0)


@pytest.fixture
def network(db):
    """Return the seeded organisations by code (re-seeds after a flushing test)."""
    if not Organisation.objects.filter(code="jpo").exists():
        call_command("seed_network", verbosity=0)
    return {org.code: org for org in Organisation.objects.all()}


def make_actor(code: str, role: str, username: str | None = None) -> Actor:
    """Create a user with one membership and return its Actor."""
    membership, _created = user_create_or_update(
        username=username or f"{role}-{code}",
        organisation_code=code,
        role=role,
        password="pass-1234-word",
        validate=False,
    )
    return Actor(user=membership.user, membership=membership)


ORG_A = "inpit-window-13"
ORG_B = "yorozu-27"


@pytest.fixture
def staff_a(network) -> Actor:
    return make_actor(ORG_A, "window_staff")


@pytest.fixture
def staff_a2(network) -> Actor:
    return make_actor(ORG_A, "window_staff", username="window_staff-2-" + ORG_A)


@pytest.fixture
def staff_b(network) -> Actor:
    return make_actor(ORG_B, "window_staff")


@pytest.fixture
def manager_a(network) -> Actor:
    return make_actor(ORG_A, "manager")


@pytest.fixture
def expert_a(network) -> Actor:
    return make_actor(ORG_A, "expert")


@pytest.fixture
def hub_coordinator(network) -> Actor:
    """Coordinator of 関東経済産業局, the hub covering 東京都 (A's prefecture)."""
    return make_actor("bureau-kanto", "coordinator")


@pytest.fixture
def other_hub_coordinator(network) -> Actor:
    """Coordinator of 近畿経済産業局, which does not cover 東京都."""
    return make_actor("bureau-kinki", "coordinator")


@pytest.fixture
def superuser_actor(db, django_user_model) -> Actor:
    user = django_user_model.objects.create_superuser(
        "root-admin", "root@example.invalid", "pw"
    )
    return Actor(user=user)


@pytest.fixture
def api():
    """Return a function giving an APIClient authenticated as an actor."""

    def client_for(
        actor: Actor | None = None, organisation: str | None = None
    ) -> APIClient:
        client = APIClient()
        if actor is not None:
            client.force_authenticate(user=actor.user)
        if organisation:
            client.credentials(HTTP_X_ORGANISATION=organisation)
        return client

    return client_for
