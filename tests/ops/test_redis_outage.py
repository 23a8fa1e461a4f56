"""A Redis outage does not stop staff from working (issue 25).

The probe: while Redis was stopped for ~12 s every `POST consultations/`
answered 500 (`redis.exceptions.ConnectionError` from the rate limits).
Here the cache and the Celery broker are a private redis-server on a free
port, started, stopped mid-run and started again by the test (the
machine's Redis on 6379 is never touched). Three staff members log
consultations and log in (auth/token/) before, during and after the
outage: no 500, every consultation saved once, logins answered, the login
lockout (django-axes, on the database) still refusing a locked-out user
while Redis is down, a warning logged, and the rate limits counting again
once Redis is back (README "Reliability").
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time

import pytest
import redis
from django.test import Client, override_settings
from kombu import pools as kombu_pools
from rest_framework.test import APIClient

from config.celery import app as celery_app
from crm.models import Consultation
from tests.conftest import ORG_A, make_actor
from tests.crm.factories import CompanyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.celery_worker]

PASSWORD = "pass-1234-word"  # make_actor's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class PrivateRedis:
    """A throwaway redis-server (no persistence) the test stops and restarts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_for(lambda: reachable(self.port), timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        assert wait_for(lambda: not reachable(self.port), timeout=10)


def _use_broker(url: str) -> None:
    """Point the in-process Celery app at url, dropping pooled connections."""
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
        celery_app._pool = None
    amqp = celery_app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None
    kombu_pools.reset()
    celery_app.conf.broker_url = url


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    previous = celery_app.conf.broker_url
    _use_broker(server.url)
    cache = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
        }
    }
    try:
        with override_settings(CACHES=cache):
            yield server
    finally:
        server.stop()
        _use_broker(previous)


def consultation(company, label: str) -> dict:
    return {
        "company": company.pk,
        "occurred_at": "2026-11-19T15:00:00+09:00",
        "channel": "visit",
        "duration_minutes": 30,
        "topics": ["patent"],
        "summary": f"特許出願の相談 {label}",
    }


def test_staff_log_consultations_and_log_in_through_a_redis_outage(
    network, private_redis, caplog
):
    staff = [
        make_actor(ORG_A, "window_staff", username=f"outage-{n}") for n in range(3)
    ]
    locked = make_actor(ORG_A, "window_staff", username="outage-locked")
    company = CompanyFactory()
    # A 500 is an answer to count here, not an exception of the test client.
    anonymous = APIClient(raise_request_exception=False, REMOTE_ADDR="192.0.2.7")
    statuses: list[tuple[str, int]] = []
    sent: list[str] = []

    def login(actor) -> APIClient:
        response = anonymous.post(
            "/api/v1/auth/token/",
            {"username": actor.user.username, "password": PASSWORD},
            format="json",
        )
        statuses.append(("login", response.status_code))
        client = APIClient(raise_request_exception=False)
        if response.status_code == 200:
            client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client

    def work(phase: str, rounds: int = 4) -> None:
        clients = [login(actor) for actor in staff]
        for n in range(rounds):
            for i, client in enumerate(clients):
                label = f"{phase}-{i}-{n}"
                response = client.post(
                    "/api/v1/consultations/",
                    consultation(company, label),
                    format="json",
                )
                statuses.append((f"post {label}", response.status_code))
                sent.append(f"特許出願の相談 {label}")
            listed = clients[0].get("/api/v1/consultations/")
            statuses.append((f"list {phase}", listed.status_code))

    work("before")
    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="config.throttling"):
        work("during")
        # The lockout keeps working from the database: 5 failures lock the
        # user out (429 locked_out), the right password is refused too.
        for _ in range(5):
            anonymous.post(
                "/api/v1/auth/token/",
                {"username": "outage-locked", "password": "wrong"},
                format="json",
            )
        refused = anonymous.post(
            "/api/v1/auth/token/",
            {"username": locked.user.username, "password": PASSWORD},
            format="json",
        )
        # The web UI: nothing on its request path needs the cache.
        web = Client(raise_request_exception=False)
        web.force_login(staff[0].user)
        page = web.get("/companies/", {"q": company.name})
    private_redis.start()
    work("after")

    assert [s for s in statuses if s[1] >= 500] == []
    assert {code for what, code in statuses if what.startswith("post")} == {201}
    assert {code for what, code in statuses if what == "login"} == {200}
    assert {code for what, code in statuses if what.startswith("list")} == {200}
    assert page.status_code == 200
    assert refused.status_code == 429
    assert refused.json()["code"] == "locked_out"
    # Every consultation saved, none twice.
    summaries = list(
        Consultation.objects.filter(company=company).values_list("summary", flat=True)
    )
    assert sorted(summaries) == sorted(sent)
    assert len(sent) == 36
    assert any("cache unreachable" in r.getMessage() for r in caplog.records)
    # Redis is back: the rate limits count again.
    keys = redis.Redis.from_url(private_redis.url).keys("*throttle_user_*")
    assert keys


def test_a_redis_that_does_not_answer_holds_no_request(network, settings):
    # A host that accepts the connection and never answers (a hung Redis, a
    # half-open network): the cache's socket timeouts (config/settings.py)
    # let the rate limits fail open within about a second (5 s and more
    # without them).
    from config import settings as production

    options = (
        production.CACHES["default"].get("OPTIONS", {}) if production.REDIS_URL else {}
    )
    staff = make_actor(ORG_A, "window_staff", username="hung-redis")
    company = CompanyFactory()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # connections wait in the backlog, nothing is read
    port = silent.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": options,
        }
    }
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user=staff.user)

    def too_long(signum, frame):
        raise TimeoutError("the request waited 10 s for the cache")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(10)
    started = time.monotonic()
    try:
        response = client.post(
            "/api/v1/consultations/", consultation(company, "hung"), format="json"
        )
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        silent.close()
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert elapsed < 3
    assert Consultation.objects.filter(summary="特許出願の相談 hung").count() == 1
