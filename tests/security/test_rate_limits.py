"""Per-user API rate limits (DRF throttling): 429 in Japanese past the limit.

The test settings raise the limits for the rest of the suite; here the
user and anonymous rates are lowered for one test each. The production
defaults are checked in tests/config/test_settings_checks.py.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from tests.conftest import ORG_A, make_actor


def test_a_user_past_the_limit_gets_429_in_japanese(api, network, monkeypatch):
    monkeypatch.setitem(UserRateThrottle.THROTTLE_RATES, "user", "3/minute")
    busy = make_actor(ORG_A, "window_staff", username="busy")
    calm = make_actor(ORG_A, "window_staff", username="calm")
    for actor in (busy, calm):
        cache.delete(f"throttle_user_{actor.user.pk}")
    client = api(busy)

    answers = [client.get("/api/v1/prefectures/").status_code for _ in range(3)]
    refused = client.get("/api/v1/companies/")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "throttled"
    assert "リクエストが多すぎます" in body["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    # The limit is per user: a colleague is not slowed down.
    assert api(calm).get("/api/v1/prefectures/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/auth/token/"])
def test_anonymous_requests_are_limited_per_address(db, monkeypatch, path):
    monkeypatch.setitem(AnonRateThrottle.THROTTLE_RATES, "anon", "2/minute")
    cache.delete("throttle_anon_203.0.113.9")
    client = APIClient(REMOTE_ADDR="203.0.113.9")

    codes = [
        client.post(path, {"username": "x", "password": "y"}, format="json").status_code
        for _ in range(3)
    ]

    assert codes == [400, 400, 429]
