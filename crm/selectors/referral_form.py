"""Reads of the 他機関へ紹介 page: the case's topics, the routing tags, the receivers.

The page preselects the topics of the case's consultations the actor may
see, offers the expertise tags that are not topics as extra routing, and
lists every other active organisation after the routing's suggestions.
Kept out of the view so the HTML layer runs no ORM of its own.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from crm.choices import Topic
from crm.models import Case, ConsultationTopic
from crm.selectors.visibility import consultations_visible_to
from support_network.actors import Actor
from support_network.models import ExpertiseTag, Organisation


def case_topics_visible_to(actor: Actor, case: Case) -> list[str]:
    """Return the topics of the case's consultations the actor may see."""
    return list(
        ConsultationTopic.objects.filter(
            consultation__in=consultations_visible_to(actor).filter(case=case)
        )
        .order_by("topic")
        .values_list("topic", flat=True)
        .distinct()
    )


def routing_tag_choices() -> list[tuple[str, str]]:
    """Return (slug, name) of the expertise tags that are not consultation topics."""
    return list(
        ExpertiseTag.objects.exclude(slug__in=Topic.values)
        .order_by("slug")
        .values_list("slug", "name")
    )


def expertise_tags_known(tags: list[str]) -> list[str]:
    """Return the slugs among `tags` that name an expertise tag."""
    return list(
        ExpertiseTag.objects.filter(slug__in=tags).values_list("slug", flat=True)
    )


def referral_receiver_choices(
    case: Case, actor: Actor, *, exclude_codes: list[str]
) -> list[tuple[str, str]]:
    """Return (code, name) of the active organisations a case may be referred to.

    Neither the case's own organisation nor the actor's, nor `exclude_codes`
    (the suggestions, listed apart), by kind and code.
    """
    return list(
        Organisation.objects.filter(is_active=True)
        .exclude(pk__in=[case.organisation_id, actor.organisation_id])
        .exclude(code__in=exclude_codes)
        .order_by("kind", "code")
        .values_list("code", "name")
    )


def organisation_get(code: str) -> Organisation:
    """Return the organisation with this code (DoesNotExist if none)."""
    return Organisation.objects.get(code=code)


def user_get(pk: int):
    """Return the user pk, or None."""
    return get_user_model().objects.filter(pk=pk).first()
