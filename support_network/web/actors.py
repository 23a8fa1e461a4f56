"""Web UI plumbing of the network: the acting organisation of a session.

The API takes the acting organisation from the X-Organisation header; the web
UI keeps it in the session, switched from the header bar. Both resolve it
through `actor_for`, so the same rules apply.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from support_network.actors import Actor
from support_network.errors import DomainError
from support_network.selectors import actor_for, memberships_of

SESSION_KEY = "organisation"


def web_actor(request) -> Actor:
    """Return the Actor of the logged-in user for the session's organisation.

    With several memberships and none chosen yet, the first one (by code)
    is used, the same one the header bar shows.
    """
    user = request.user
    code = request.session.get(SESSION_KEY)
    if code:
        try:
            return actor_for(user, code)
        except DomainError:
            request.session.pop(SESSION_KEY, None)
    memberships = list(memberships_of(user))
    if len(memberships) > 1:
        return Actor(user=user, membership=memberships[0])
    return actor_for(user)


@login_required
@require_POST
def organisation_switch(request):
    """Act through another of the user's memberships from now on."""
    code = request.POST.get("organisation", "")
    if any(m.organisation.code == code for m in memberships_of(request.user)):
        request.session[SESSION_KEY] = code
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    return redirect(target)
