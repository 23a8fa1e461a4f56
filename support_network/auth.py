"""A ceiling on failed logins per client address, whatever the username.

django-axes locks a username + address pair out after AXES_FAILURE_LIMIT
failures; that alone lets one address try a few passwords on every account
(password spraying). This backend, after axes' in AUTHENTICATION_BACKENDS,
refuses every login from an address with AXES_ADDRESS_FAILURE_LIMIT failed
logins (any usernames) within the cool-off time, reading axes' own records
(AccessAttempt). The limit is high, so that an office behind one NAT
address is not locked out by a few typos; 0 turns it off. The refusal is
axes' lockout (429 page, `locked_out` on the token API).
"""

from __future__ import annotations

from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Sum
from django.utils import timezone


def address_failures(request) -> int:
    """Return the failed logins from the request's address within the cool-off."""
    address = get_client_ip_address(request)
    if not address:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=address)
    cool_off = get_cool_off(request)
    if cool_off:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class AddressLockoutBackend:
    """Refuses logins from an address past AXES_ADDRESS_FAILURE_LIMIT; logs no one in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        limit = getattr(settings, "AXES_ADDRESS_FAILURE_LIMIT", 0)
        if not settings.AXES_ENABLED or not limit or request is None:
            return None
        if address_failures(request) >= limit:
            # axes' middleware and the token view answer a flagged request
            # with the lockout; axes records no attempt for it.
            request.axes_locked_out = True
            raise PermissionDenied("too many failed logins from this address")
        return None

    # No get_user(): this backend never logs anyone in, so no session names
    # it (Django's test client's force_login picks the first backend that
    # has get_user, which must be ModelBackend).
