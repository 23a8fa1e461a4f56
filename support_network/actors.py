"""The acting identity: a user acting through one membership.

Every service and selector takes an Actor rather than a request, so the web
UI, the API, commands and tasks share one notion of "who is doing this".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from support_network.choices import Role
from support_network.errors import ValidationFailed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from support_network.models import Membership, Organisation


@dataclass(frozen=True)
class Actor:
    """A user, and the membership (organisation + role) they act through."""

    user: AbstractBaseUser
    membership: Membership | None = None

    @property
    def is_superuser(self) -> bool:
        return bool(getattr(self.user, "is_superuser", False))

    @property
    def organisation(self) -> Organisation | None:
        return self.membership.organisation if self.membership else None

    @property
    def organisation_id(self) -> int | None:
        return self.membership.organisation_id if self.membership else None

    @property
    def role(self) -> str | None:
        return self.membership.role if self.membership else None

    def require_membership(self) -> None:
        """Refuse an action that must be taken for an organisation."""
        if self.membership is None:
            raise ValidationFailed(
                _("所属組織として操作してください（X-Organisation）。"),
                code="organisation_required",
            )

    def has_role(self, *roles: str) -> bool:
        """Return True when the actor's role is one of roles."""
        return self.role in roles

    @property
    def is_expert(self) -> bool:
        return self.role == Role.EXPERT

    @property
    def sees_all_confidential_of_own_org(self) -> bool:
        """Managers and org admins see every confidential case of their organisation."""
        return self.role in (Role.MANAGER, Role.ORG_ADMIN)
