"""Template context for the header bar: unread notifications, board link."""

from __future__ import annotations

from crm.permissions import MANAGING_ROLES as ASSIGNING_ROLES
from crm.permissions import can_import
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
        actor = web_actor(request)
    except DomainError:
        actor = None  # no membership: the pages say so themselves
    shows_board = actor is not None and actor.has_role(*ASSIGNING_ROLES)
    return {
        "nav_unread_notifications": unread,
        "nav_shows_board": shows_board,
        "nav_shows_imports": actor is not None and can_import(actor),
    }
