"""The home page (my work): what needs the signed-in member today.

Today's and overdue follow-ups, recent consultations and waiting referrals,
read in one go by `crm.selectors.home.my_work`; the view only renders them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from crm.selectors import home as home_selectors
from support_network.errors import DomainError
from support_network.web.actors import web_actor


@login_required
def my_work(request):
    """Show today's and overdue follow-ups, recent consultations, waiting referrals."""
    try:
        actor = web_actor(request)
    except DomainError as exc:
        return render(request, "crm/no_membership.html", {"message": exc.detail})
    today = timezone.localdate()
    work = home_selectors.my_work(actor, today=today)
    return render(request, "crm/my_work.html", {"work": work, "today": today})
