"""Reads of the network: memberships, acting organisation, hub coverage."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from support_network.actors import Actor
from support_network.choices import NATIONAL_HUB_KINDS, OrganisationKind
from support_network.errors import PermissionDenied, ValidationFailed
from support_network.models import Membership, Organisation, Prefecture


def active_memberships() -> QuerySet[Membership]:
    """Return the memberships that grant access now (the one "active member" rule).

    Active means the membership, its user and its organisation are all
    active: a deactivated membership acts for its organisation no more, on
    the web and in the API, from the next request on.
    """
    return Membership.objects.filter(
        is_active=True, user__is_active=True, organisation__is_active=True
    )


def active_members(
    organisation_ids, roles=None
) -> QuerySet[Membership]:
    """Return the active memberships of these organisations (of these roles).

    The one query behind "who works there now": notifications, reminders,
    referral receivers and the inbox's assignees all start here, so a
    deactivated user or organisation drops out of every list at once.
    """
    qs = active_memberships().filter(organisation_id__in=list(organisation_ids))
    if roles is not None:
        qs = qs.filter(role__in=list(roles))
    return qs


def memberships_of(user) -> QuerySet[Membership]:
    """Return the user's active memberships, organisation loaded."""
    return (
        active_memberships()
        .filter(user=user)
        .select_related("organisation", "organisation__prefecture")
        .order_by("organisation__code")
    )


def members_of_organisation(organisation_id: int) -> QuerySet[Membership]:
    """Return every membership of an organisation, active or not, user loaded."""
    return Membership.objects.filter(organisation_id=organisation_id).select_related(
        "user", "organisation"
    )


def actor_for(user, organisation_code: str | None = None) -> Actor:
    """Return the Actor for user acting as organisation_code (API.md X-Organisation).

    With one membership the organisation is implied; with several the code is
    required. Superusers may act without a membership.
    """
    memberships = list(memberships_of(user))
    if organisation_code:
        for membership in memberships:
            if membership.organisation.code == organisation_code:
                return Actor(user=user, membership=membership)
        raise PermissionDenied(
            _("組織「%(code)s」の所属がありません。") % {"code": organisation_code},
            code="not_a_member",
        )
    if len(memberships) == 1:
        return Actor(user=user, membership=memberships[0])
    if not memberships:
        if user.is_superuser:
            return Actor(user=user, membership=None)
        raise PermissionDenied(
            _(
                "どの組織にも所属していません。組織管理者に所属の登録を依頼してください。"
            ),
            code="no_membership",
        )
    raise ValidationFailed(
        _(
            "複数の組織に所属しています。X-Organisation ヘッダーで組織コードを指定してください。"
        ),
        code="organisation_required",
    )


def hub_prefecture_codes(organisation: Organisation) -> list[str] | None:
    """Return the prefectures whose cases organisation covers as a hub.

    None means the whole nation (JPO, INPIT HQ, 中小企業庁); an empty list
    means it is no hub. DESIGN.md "Who sees what" rule 3.
    """
    if organisation.kind in NATIONAL_HUB_KINDS:
        return None
    if organisation.kind == OrganisationKind.METI_BUREAU and organisation.region_id:
        return list(
            Prefecture.objects.filter(region_id=organisation.region_id).values_list(
                "code", flat=True
            )
        )
    if organisation.kind == OrganisationKind.JPAA_BRANCH:
        return list(
            Prefecture.objects.filter(jpaa_branch=organisation).values_list(
                "code", flat=True
            )
        )
    return []


def hub_organisations_for_prefecture(prefecture_code: str | None) -> QuerySet:
    """Return the hubs covering a prefecture: its bureau, its 地域会, the nation's."""
    national = Q(kind__in=NATIONAL_HUB_KINDS)
    if not prefecture_code:
        return Organisation.objects.filter(national, is_active=True)
    prefecture = Prefecture.objects.get(code=prefecture_code)
    regional = Q(kind=OrganisationKind.METI_BUREAU, region_id=prefecture.region_id)
    branch = (
        Q(pk=prefecture.jpaa_branch_id) if prefecture.jpaa_branch_id else Q(pk=None)
    )
    return Organisation.objects.filter(national | regional | branch, is_active=True)
