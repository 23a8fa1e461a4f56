"""The `/health/` page (issue 5 "Operations")."""

from __future__ import annotations

from datetime import datetime

from django.test import Client

from config.celery import app
from crm.services.reminders import reminders_sweep
from support_network.calendar import JST


def test_health_reports_database_broker_queue_and_last_sweep(db):
    reminders_sweep(now=datetime(2026, 4, 28, 9, tzinfo=JST))
    response = Client().get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["broker"] == "ok"
    assert body["last_sweep_at"] is not None
    assert isinstance(body["queue_length"], int)  # the test broker is Redis


def test_health_without_a_sweep_yet_says_so(db):
    body = Client().get("/health/").json()
    assert body["last_sweep_at"] is None


def test_health_is_503_when_the_broker_is_down(db, monkeypatch):
    # Nothing listens on port 1: the broker is unreachable.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = Client().get("/health/")
    assert response.status_code == 503
    assert response.json()["broker"] == "error"
    assert response.json()["database"] == "ok"
