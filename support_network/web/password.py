"""Web pages of a user's own password: change it, or reset it by e-mail.

Django's views with Japanese templates (templates/registration/). A reset
answers the same page whatever the address (no account enumeration), and
its mail is sent by services.password.password_reset_request, which the
API `auth/password/reset/` uses too. A password change ends the user's
other sessions (Django's session hash) and their API tokens.
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect

from support_network.services.password import password_reset_request
from support_network.tokens import user_tokens_revoke


def _tokens_revoke(user) -> None:
    user_tokens_revoke(user=user)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change one's password; other sessions and every API token end."""

    template_name = "registration/password_change_form.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        _tokens_revoke(form.user)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link: the same answer whatever the address."""

    template_name = "registration/password_reset_form.html"

    def form_valid(self, form):
        password_reset_request(email=form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a password from a one-time link (reset or invitation)."""

    template_name = "registration/password_reset_confirm.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        _tokens_revoke(form.user)
        return response
