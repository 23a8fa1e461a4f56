"""Visibility: which cases, consultations, companies and contacts exist for a user.

Every list, detail, count, search, export and statistic starts from one of
the `*_visible_to(actor)` functions below (DESIGN.md "Who sees what"), so
what a user may not see does not exist for them: absent from lists and
counts, 404 on detail. `case_visibility_q`, `own_case_q` and `hub_q` are the
rules themselves, for queries that reach cases through another table.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.fields import BooleanField

from crm.choices import REFERRAL_VISIBLE_STATUSES, ConsentScope
from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    Contact,
    FollowUp,
    Outcome,
    Referral,
)
from support_network.actors import Actor
from support_network.choices import Role
from support_network.selectors import hub_prefecture_codes


def _referred_to_actor(actor: Actor, case_ref: str) -> Exists:
    """Return 'the case was referred to the actor's organisation' (rule 3)."""
    return Exists(
        Referral.objects.filter(
            case_id=OuterRef(case_ref),
            to_organisation_id=actor.organisation_id,
            status__in=REFERRAL_VISIBLE_STATUSES,
        )
    )


def own_case_q(actor: Actor, prefix: str, *, confidential: bool) -> Q:
    """Return the rule for cases of the actor's own organisation.

    Experts see only what is assigned to them; confidential cases only the
    assigned staff, managers and org admins (rule 4).
    """
    own = Q(**{f"{prefix}organisation_id": actor.organisation_id})
    assigned = Q(**{f"{prefix}assignee_id": actor.user.pk})
    if actor.role == Role.EXPERT:
        return own & assigned
    if actor.sees_all_confidential_of_own_org:
        return own
    if confidential:
        return own & assigned
    return own & (Q(**{f"{prefix}is_confidential": False}) | assigned)


def hub_q(actor: Actor, prefix: str) -> Q | None:
    """Return the hub rule: coordinators of covering hubs, with network consent."""
    if actor.role != Role.COORDINATOR:
        return None
    codes = hub_prefecture_codes(actor.organisation)
    if codes == []:
        return None
    consent = Exists(
        Consent.objects.filter(
            company_id=OuterRef(f"{prefix}company_id"),
            scope=ConsentScope.NETWORK,
            withdrawn_at__isnull=True,
        )
    )
    q = Q(consent) & Q(**{f"{prefix}is_confidential": False})
    if codes is not None:
        q &= Q(**{f"{prefix}organisation__prefecture_id__in": codes})
    return q


def case_visibility_q(
    actor: Actor, prefix: str = "", *, confidential: bool = False
) -> Q:
    """Return a Q selecting the cases (at `prefix`) the actor may see.

    With confidential=True, return the stricter rule that also admits
    confidential content (rule 4): own assigned staff / managers / org
    admins, and organisations the case was referred to.
    """
    case_ref = f"{prefix}id" if prefix else "id"
    visible = own_case_q(actor, prefix, confidential=confidential) | Q(
        _referred_to_actor(actor, case_ref)
    )
    if not confidential:
        hub = hub_q(actor, prefix)
        if hub is not None:
            visible |= hub
    return visible


def _scoped(actor: Actor, qs: QuerySet, rule) -> QuerySet:
    """Apply rule(actor) to qs: superusers see all, actors without membership nothing."""
    if actor.is_superuser:
        return qs
    if actor.membership is None:
        return qs.none()
    return qs.filter(rule(actor))


def cases_visible_to(actor: Actor) -> QuerySet[Case]:
    """Return the cases the actor may see."""
    qs = Case.objects.select_related("company", "organisation", "assignee")
    return _scoped(actor, qs, case_visibility_q)


def consultations_visible_to(actor: Actor) -> QuerySet[Consultation]:
    """Return the consultations the actor may see (confidential ones stricter)."""
    qs = Consultation.objects.select_related(
        "company", "organisation", "case", "author"
    )
    return _scoped(
        actor,
        qs,
        lambda a: (
            case_visibility_q(a, "case__")
            & (
                Q(is_confidential=False)
                | case_visibility_q(a, "case__", confidential=True)
            )
        ),
    )


def _via_case(actor: Actor, model) -> QuerySet:
    return _scoped(actor, model.objects.all(), lambda a: case_visibility_q(a, "case__"))


def follow_ups_visible_to(actor: Actor) -> QuerySet[FollowUp]:
    """Return the follow-ups of visible cases."""
    return _via_case(actor, FollowUp)


def outcomes_visible_to(actor: Actor) -> QuerySet[Outcome]:
    """Return the outcomes of visible cases."""
    return _via_case(actor, Outcome)


def referrals_visible_to(actor: Actor) -> QuerySet[Referral]:
    """Return the referrals of visible cases."""
    return _via_case(actor, Referral)


def _referral_record_q(actor: Actor) -> Q:
    org = actor.organisation_id
    user = actor.user.pk
    sender_side = Q(from_organisation_id=org)
    if actor.role == Role.EXPERT:
        sender_side &= Q(sent_by_id=user)
    elif not actor.sees_all_confidential_of_own_org:
        sender_side &= (
            Q(case__is_confidential=False)
            | Q(sent_by_id=user)
            | Q(case__assignee_id=user)
        )
    return case_visibility_q(actor, "case__") | Q(to_organisation_id=org) | sender_side


def referral_records_visible_to(actor: Actor) -> QuerySet[Referral]:
    """Return the referral rows the actor may see, as a party or through the case.

    These are the referrals of the cases the actor may see, plus the
    organisation's own record as a party: every referral addressed to it,
    in any status (its inbox keeps what it was asked and what it answered),
    and those it sent. The case behind a declined, cancelled or expired
    referral stays invisible to the receiver (DESIGN.md "Who sees what"
    rule 3); only the referral row remains. A sent referral of a
    confidential case is shown only to its sender, managers and org
    admins (rule 4).
    """
    return _scoped(actor, Referral.objects.all(), _referral_record_q)


def _company_private_q(actor: Actor, company_ref: str) -> Q:
    """Return 'the actor may see this company's non-public data'."""
    visible_case = Exists(
        cases_visible_to(actor).filter(company_id=OuterRef(company_ref)).values("pk")
    )
    return Q(visible_case)


def _own_or_company_private_q(actor: Actor) -> Q:
    """Return 'recorded by the actor's organisation, or of a company it works with'."""
    return Q(organisation_id=actor.organisation_id) | _company_private_q(
        actor, "company_id"
    )


def contacts_visible_to(actor: Actor) -> QuerySet[Contact]:
    """Return contacts recorded by the actor's organisation or of a visible case's company."""
    qs = Contact.objects.select_related("company", "organisation")
    return _scoped(actor, qs, _own_or_company_private_q)


def consents_visible_to(actor: Actor) -> QuerySet[Consent]:
    """Return consents recorded by the actor's organisation or of a visible case's company."""
    qs = Consent.objects.select_related("company", "organisation")
    return _scoped(actor, qs, _own_or_company_private_q)


def companies_visible_to(actor: Actor) -> QuerySet[Company]:
    """Return every active company (public master data, rule 2).

    Each row carries `has_private_access`: whether the actor may also see
    the non-public fields (its organisation registered the company, or it
    may see one of the company's cases).
    """
    qs = Company.objects.filter(merged_into__isnull=True).select_related("prefecture")
    if actor.is_superuser:
        return qs.annotate(has_private_access=Value(True, output_field=BooleanField()))
    if actor.membership is None:
        return qs.none()
    private = Q(registered_by_id=actor.organisation_id) | _company_private_q(
        actor, "pk"
    )
    return qs.annotate(has_private_access=private)
