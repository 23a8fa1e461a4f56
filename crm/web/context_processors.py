"""Template context for the header bar: unread notifications, board link."""

from __future__ import annotations

from crm.permissions import MANAGING_ROLES as ASSIGNING_ROLES
from crm.selectors.inbox import user_unread_notification_count
from support_network.errors import DomainError
from support_network.web.actors import web_actor


def referral_nav(request):
    """Return the unread notification count and whether to link the board."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = user_unread_notification_count(user)
    try:
        shows_board = web_actor(request).has_role(*ASSIGNING_ROLES)
    except DomainError:
        shows_board = False  # no membership: the pages say so themselves
    return {"nav_unread_notifications": unread, "nav_shows_board": shows_board}
