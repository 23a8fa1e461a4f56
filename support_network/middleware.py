"""A rule refused on a web page: the Japanese error page, not a 500.

Services and `web_actor` raise DomainError (403 `not_permitted`,
`org_admin_only`, `no_membership`; 404; 409; 400). The API renders it as
JSON (config/api.py); on the web a view that does not catch it itself gets
the error page of its status, with the rule's message and a way back. A
deactivated membership thus shows "no membership" (403) on its next page.
"""

from __future__ import annotations

from django.shortcuts import render

from support_network.errors import DomainError

TEMPLATES = {403: "403.html", 404: "404.html"}


class DomainErrorPageMiddleware:
    """Render an uncaught DomainError of a web view as its error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if request.path.startswith("/api/"):
            return None  # DRF's handler answers JSON there
        status = exception.status_code
        return render(
            request,
            TEMPLATES.get(status, "400.html"),
            {"message": exception.detail, "code": exception.code},
            status=status,
        )
