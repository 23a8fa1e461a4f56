"""Web UI pages of the network (server-rendered, Japanese)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    """Show the user's organisations and where to go next."""
    return render(request, "home.html")
