"""Reads of imports (crm.Import): an organisation sees its own imports only."""

from __future__ import annotations

from django.db.models import QuerySet

from crm.models import Import
from support_network.actors import Actor


def imports_visible_to(actor: Actor) -> QuerySet[Import]:
    """Return the imports of the actor's acting organisation (none without one)."""
    if actor.membership is None:
        return Import.objects.none()
    return Import.objects.filter(organisation_id=actor.organisation_id).defer("content")
