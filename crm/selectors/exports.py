"""Who sees which exports: the visibility selectors of `Export`.

The API, the managers' page and the download all start from these, so the
rule (requester or org admin of the export's organisation) lives once.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.models import Export
from support_network.actors import Actor
from support_network.choices import Role


def exports_visible_to(actor: Actor) -> QuerySet[Export]:
    """Return the exports the actor may see and download.

    Its requester (acting through the export's organisation) and the org
    admins of that organisation; superusers all. Anyone else gets a 404.
    """
    qs = Export.objects.select_related("organisation", "requested_by")
    if actor.is_superuser:
        return qs
    if actor.membership is None:
        return qs.none()
    own = Q(organisation_id=actor.organisation_id)
    if actor.role == Role.ORG_ADMIN:
        return qs.filter(own)
    return qs.filter(own, requested_by_id=actor.user.pk)


def exports_requested_by(actor: Actor) -> QuerySet[Export]:
    """Return the actor's own exports for the acting organisation, newest first."""
    if actor.membership is None:
        return Export.objects.filter(requested_by_id=actor.user.pk)
    return Export.objects.filter(
        requested_by_id=actor.user.pk, organisation_id=actor.organisation_id
    )
