"""Domain errors shared by every app.

Services raise these; the API handler (config/api.py) and the web views turn
them into a response, so a rule's message is written once, in Japanese.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused the request."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        field: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = str(detail)
        self.code = code or self.default_code
        self.field = field
        self.extra = extra

    def as_payload(self) -> dict[str, Any]:
        """Return the JSON body the API sends for this error."""
        if self.field:
            return {self.field: [self.detail]}
        return {"detail": self.detail, "code": self.code, **self.extra}


class ValidationFailed(DomainError):
    """Bad input (400)."""

    status_code = 400


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    status_code = 409
    default_code = "conflict"


class PermissionDenied(DomainError):
    """The actor may see the object but not do this to it (403)."""

    status_code = 403
    default_code = "permission_denied"


class NotVisible(DomainError):
    """The object does not exist for this actor (404, never 403)."""

    status_code = 404
    default_code = "not_found"
