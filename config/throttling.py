"""API rate limits (DRF throttles) that count atomically and fail open (issue 25).

The counters live in the cache (Redis in production). Two things differ
from DRF's own throttles:

- While the cache is unreachable, a request is let through and a warning
  is logged (at most once per WARNING_INTERVAL seconds per process): rate
  limiting is protection against runaway clients, not a reason to stop
  staff from logging consultations during a Redis outage. Login lockout is
  django-axes on the database (AXES_HANDLER is its database handler) and
  keeps working.
- A request is counted with one atomic `add`/`incr` in a fixed window of
  the rate's period, instead of DRF's read-modify-write of a timestamp list
  (which over-admits under concurrency, and rewrites a list of up to 10,000
  timestamps per request). A client gets at most the rate per window;
  Retry-After is the time left in the window.

Scopes: `user` (per user), `anon` (per address, anonymous requests),
`login` (per address, `auth/token/` only, so other anonymous traffic from
an office's address does not lock its staff out of logging in; axes locks
out repeated failures per user and address).
"""

from __future__ import annotations

import logging
import threading
import time

from rest_framework import throttling

logger = logging.getLogger(__name__)

WARNING_INTERVAL = 10.0


def _cache_errors() -> tuple[type[BaseException], ...]:
    """Return the exceptions a cache that is down raises (redis-py's, sockets')."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # the embedded default uses the local-memory cache
        return (OSError,)
    return (RedisError, OSError)


CACHE_ERRORS = _cache_errors()

_warned_at = 0.0
_warned_lock = threading.Lock()


def cache_down_warning(what: str, exc: BaseException) -> None:
    """Log that the cache is down and `what` degrades, at most every WARNING_INTERVAL s."""
    global _warned_at
    now = time.monotonic()
    with _warned_lock:
        if now - _warned_at < WARNING_INTERVAL:
            return
        _warned_at = now
    logger.warning("cache unreachable, %s: %s", what, exc)


def throttle_key(scope: str, ident: str | int, duration: int, now: float) -> str:
    """Return the cache key counting `ident`'s requests of `scope` in now's window."""
    return f"throttle_{scope}_{ident}_{int(now // duration)}"


class CountingRateThrottle(throttling.SimpleRateThrottle):
    """A fixed-window counter per client, failing open while the cache is down."""

    wait_seconds: float | None = None

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        base = self.get_cache_key(request, view)
        if base is None:
            return True
        now = self.timer()
        self.key = f"{base}_{int(now // self.duration)}"
        self.wait_seconds = self.duration - now % self.duration
        try:
            count = self._count()
        except CACHE_ERRORS as exc:
            cache_down_warning("API rate limits are not applied", exc)
            return True
        return count <= self.num_requests

    def _count(self) -> int:
        # The key outlives its window by a second, so a late incr of the
        # window's last moment never recreates it without a timeout.
        if self.cache.add(self.key, 1, self.duration + 1):
            return 1
        try:
            return self.cache.incr(self.key)
        except ValueError:  # expired between add and incr
            self.cache.add(self.key, 1, self.duration + 1)
            return 1

    def wait(self):
        return self.wait_seconds


class UserRateThrottle(CountingRateThrottle, throttling.UserRateThrottle):
    """Per user (per address when anonymous): scope `user`."""


class AnonRateThrottle(CountingRateThrottle, throttling.AnonRateThrottle):
    """Anonymous requests per address: scope `anon`."""


class LoginRateThrottle(CountingRateThrottle):
    """`auth/token/` per address: scope `login`, apart from other anonymous traffic."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {
            "scope": self.scope,
            "ident": self.get_ident(request),
        }
