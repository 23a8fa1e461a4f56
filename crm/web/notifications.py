"""The notification page: the user's notifications, marking them read.

Notifications are the user's own, whatever organisation they act for; they
are read through `crm.selectors.inbox` and marked read through
`services.notification_read`. Each links the page it is about through the
one link registry the e-mails use (`notification_path`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Notification
from crm.selectors.inbox import (
    user_notification_get,
    user_notification_list,
    user_unread_notifications,
)
from crm.services import notifications as notifications_services
from crm.services.notification_emails import notification_path
from support_network.actors import Actor

# Bounded pages: the notification list shows at most this many, and
# "read all" marks at most READ_ALL_LIMIT at a time.
NOTIFICATION_LIMIT = 100
READ_ALL_LIMIT = 200


def _notification_links(notifications: list[Notification]) -> None:
    """Attach the page each notification is about, from the one link registry.

    The e-mails link through crm.services.notifications.notification_path
    (cases, referrals, follow-ups, the digest's board, programs' enrolments…);
    the page uses the same registry, so every notification an e-mail links
    is linked here too. Notifications about one object share one lookup.
    """
    paths: dict[tuple[str, str], str] = {}
    for n in notifications:
        key = (n.object_type, n.object_id)
        if key not in paths:
            paths[key] = notification_path(n) or ""
        n.url = paths[key]


@login_required
def notification_list(request):
    """The user's notifications, newest first, unread ones marked."""
    notifications = user_notification_list(request.user, limit=NOTIFICATION_LIMIT)
    _notification_links(notifications)
    return render(
        request,
        "crm/referrals/notification_list.html",
        {
            "notifications": notifications,
            "unread": sum(1 for n in notifications if n.read_at is None),
            "limit": NOTIFICATION_LIMIT,
        },
    )


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one notification read; someone else's is 404."""
    # Notifications are the user's, whatever organisation they act for.
    actor = Actor(user=request.user)
    notification = user_notification_get(request.user, pk)
    if notification is None:
        raise Http404
    notifications_services.notification_read(actor=actor, notification=notification)
    return redirect("crm:notification-list")


@login_required
@require_POST
def notification_read_all(request):
    """Mark every unread notification of the user read."""
    actor = Actor(user=request.user)
    unread = user_unread_notifications(request.user, limit=READ_ALL_LIMIT)
    with transaction.atomic():
        for notification in unread:
            notifications_services.notification_read(actor=actor, notification=notification)
    messages.success(request, _("すべて既読にしました。"))
    return redirect("crm:notification-list")
