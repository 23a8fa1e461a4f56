"""Statistics reach: whose work a caller's statistics cover (DESIGN.md "Statistics and exports").

Every statistic (API, managers' page, exports, the monthly mail) starts from
`statistics_reach`, so the rule lives here once.

Reach (rule 6, aggregates only, no personal data): superusers and the
national bodies (JPO, INPIT, 中小企業庁) see the nation; 経済産業局 and
弁理士会 地域会 see the organisations of the prefectures they cover, and
their own; any other organisation sees itself. Managers, org admins and
coordinators get their organisation's reach; window staff their own
organisation; experts no statistics.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    Q,
)
from django.utils.translation import gettext as _

from support_network.actors import Actor
from support_network.choices import Role
from support_network.errors import PermissionDenied, ValidationFailed
from support_network.selectors import hub_prefecture_codes

STATISTICS_ROLES = (Role.MANAGER, Role.ORG_ADMIN, Role.COORDINATOR)


@dataclass(frozen=True)
class Reach:
    """Which organisations' work the caller's statistics cover."""

    level: str  # "nation" | "region" | "organisation"
    label: str
    organisation_id: int | None = None
    prefecture_codes: tuple[str, ...] = ()

    def q(self, organisation_path: str) -> Q:
        """Return a Q keeping rows whose organisation (at the path) is in reach."""
        if self.level == "nation":
            return Q()
        own = Q(**{f"{organisation_path}_id": self.organisation_id})
        if self.level == "organisation":
            return own
        return own | Q(
            **{f"{organisation_path}__prefecture_id__in": self.prefecture_codes}
        )

    def as_dict(self) -> dict[str, str]:
        return {"level": self.level, "label": self.label}


def statistics_reach(actor: Actor, *, scope: str | None = None) -> Reach:
    """Return the actor's statistics reach; `scope="organisation"` narrows it.

    Experts get no statistics (403); window staff their own organisation.
    """
    if scope not in (None, "", "reach", "organisation"):
        raise ValidationFailed(
            _(
                "範囲は organisation（自組織）または reach（担当範囲全体）で指定してください。"
            ),
            field="scope",
        )
    if actor.is_superuser and actor.membership is None:
        return Reach(level="nation", label=_("全国"))
    actor.require_membership()
    if actor.role == Role.EXPERT:
        raise PermissionDenied(
            _("統計を閲覧する権限がありません。"), code="not_permitted"
        )
    organisation = actor.organisation
    own = Reach(
        level="organisation",
        label=organisation.name,
        organisation_id=organisation.pk,
    )
    if scope == "organisation":
        return own
    if not (actor.is_superuser or actor.role in STATISTICS_ROLES):
        return own
    codes = hub_prefecture_codes(organisation)
    if codes is None:
        return Reach(level="nation", label=_("全国"))
    if codes:
        return Reach(
            level="region",
            label=_("%(name)s の担当地域") % {"name": organisation.name},
            organisation_id=organisation.pk,
            prefecture_codes=tuple(sorted(codes)),
        )
    return own
