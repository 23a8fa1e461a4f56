"""The refusal of one step of a composition service, kept apart from the others.

A composition runs two services in one transaction (record a consent, then
send the referral; register the company, then log the consultation). When
its first step is refused, the caller must know which step it was, to show
the message on that step's form: the composition raises a subclass of
`StepRefused` carrying the step's own error. It answers as that error would
(message, field, code, HTTP status), so the API needs nothing more.
"""

from __future__ import annotations

from support_network.errors import DomainError


class StepRefused(DomainError):
    """One step of a composition was refused; `error` is that step's DomainError."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(
            error.detail, code=error.code, field=error.field, **error.extra
        )
        self.status_code = error.status_code
        self.error = error
