"""Referral suggestions: where to refer a case, and which experts to assign.

Routing suggestions rank the organisations a coordinator could refer a case
to, by how well their expertise fits the case's topics, whether they serve
the company's prefecture, and how much room they have (open referrals
against `Organisation.capacity`). Each suggestion carries a one-line reason
in Japanese, so the coordinator can see why, and overrule it.

Nothing here writes; the scores are a ranking aid, not a rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db.models import Count
from django.utils.translation import gettext as _

from crm.choices import CaseStatus, ReferralStatus
from crm.models import Case, ConsultationTopic, Referral
from crm.selectors.visibility import cases_visible_to, consultations_visible_to
from support_network.actors import Actor
from support_network.choices import OrganisationKind as Kind
from support_network.choices import Role
from support_network.errors import NotVisible, ValidationFailed
from support_network.models import ExpertiseTag, Membership, Organisation, Prefecture
from support_network.people import person_name
from support_network.selectors import active_memberships

# A referral in these states counts against the receiver's capacity.
OPEN_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)


# --- Open referrals per organisation (capacity) --------------------------------------------


def referral_open_counts(organisation_ids: Iterable[int]) -> dict[int, int]:
    """Return how many sent or accepted referrals each organisation holds."""
    rows = (
        Referral.objects.filter(
            to_organisation_id__in=list(organisation_ids), status__in=OPEN_STATUSES
        )
        .values("to_organisation_id")
        .annotate(n=Count("id"))
    )
    return {r["to_organisation_id"]: r["n"] for r in rows}


# --- Routing suggestions ------------------------------------------------------

# The kinds of organisation the network sends a topic (or routing tag) to,
# and how strongly: domain knowledge from reference/programs.md (the
# 知財戦略エキスパート desks, 知財Gメン, JETRO, よろず支援拠点, 弁理士会 地域会)
# and issue 4's examples. An organisation's own expertise tags decide
# whether it handles a topic at all; this table decides who is the natural
# first stop among those that do.
KIND_AFFINITY: dict[str, dict[str, float]] = {
    "patent": {Kind.INPIT_WINDOW: 1.0, Kind.JPAA_BRANCH: 0.8},
    "utility_model": {Kind.INPIT_WINDOW: 1.0, Kind.JPAA_BRANCH: 0.8},
    "design": {Kind.INPIT_WINDOW: 1.0, Kind.JPAA_BRANCH: 0.8},
    "trademark": {Kind.INPIT_WINDOW: 1.0, Kind.JPAA_BRANCH: 0.8},
    "copyright": {Kind.INPIT_WINDOW: 1.0},
    # Writing the application itself is the patent attorneys' work.
    "drafting": {Kind.JPAA_BRANCH: 1.0},
    "infringement": {Kind.JPAA_BRANCH: 1.0, Kind.INPIT_EXPERT_WINDOW: 0.8},
    "licensing": {Kind.INPIT_EXPERT_WINDOW: 1.0, Kind.JPAA_BRANCH: 0.8},
    "trade_secret": {Kind.INPIT_EXPERT_WINDOW: 1.0},
    "contract": {Kind.INPIT_EXPERT_WINDOW: 0.8, Kind.IP_GMEN: 0.8},
    # Unfair dealing by a large customer (取引適正化): 知財Gメン.
    "unfair_dealing": {Kind.IP_GMEN: 1.0, Kind.SME_AGENCY: 0.6},
    "overseas": {
        Kind.INPIT_EXPERT_WINDOW: 1.0,
        Kind.JETRO: 0.8,
        Kind.INPIT_WINDOW: 0.5,
    },
    "counterfeit": {Kind.INPIT_EXPERT_WINDOW: 1.0, Kind.JETRO: 1.0},
    "startup": {Kind.INPIT_EXPERT_WINDOW: 1.0, Kind.SMRJ: 0.6, Kind.YOROZU: 0.5},
    "academia": {Kind.INPIT_EXPERT_WINDOW: 1.0},
    "ip_finance": {Kind.INPIT_EXPERT_WINDOW: 1.0, Kind.SMRJ: 0.6},
    "ip_landscape": {Kind.INPIT_EXPERT_WINDOW: 0.8, Kind.INPIT_WINDOW: 0.6},
    "ip_management": {Kind.INPIT_WINDOW: 1.0, Kind.INPIT_EXPERT_WINDOW: 0.8},
    "standardization": {Kind.INPIT: 1.0},
    # Management issues (経営課題) go to the よろず支援拠点 first.
    "management": {
        Kind.YOROZU: 1.0,
        Kind.CCI: 0.8,
        Kind.CCI_FEDERATION: 0.8,
        Kind.SMRJ: 0.6,
    },
    "branding": {Kind.YOROZU: 1.0, Kind.CCI: 0.8, Kind.CCI_FEDERATION: 0.8},
    "subsidy": {Kind.YOROZU: 1.0, Kind.INPIT_WINDOW: 0.8},
}

# Policy bodies and umbrella organisations coordinate rather than take on
# single cases; they are suggested, but after the desks that do.
UMBRELLA_KINDS = frozenset(
    {
        Kind.JPO,
        Kind.METI_BUREAU,
        Kind.INPIT,
        Kind.SME_AGENCY,
        Kind.JCCI,
        Kind.JPAA,
        Kind.CCI_FEDERATION,
    }
)
UMBRELLA_WEIGHT = 0.6

# Specialised desks and the specialty each is named after (organisation
# codes are fixed by API.md). A desk is the first stop for its specialty;
# for its other tags it ranks like any other desk that handles them
# (SECONDARY_ROLE), and its reason reads 「<specialty>の専門窓口」.
DESK_SPECIALTY = {
    "inpit-expert-overseas": "overseas",
    "inpit-expert-trade-secret": "trade_secret",
    "inpit-expert-startup": "startup",
    "inpit-expert-academia": "academia",
}
KIND_SPECIALTY = {Kind.IP_GMEN: "unfair_dealing"}
SPECIALIST_KINDS = frozenset({Kind.INPIT_EXPERT_WINDOW, Kind.IP_GMEN})
SECONDARY_ROLE = 0.6

# 知財戦略エキスパート desks sit at INPIT HQ and serve the whole nation, except
# the 関西 desk, which serves its region (seeds/data/README.md).
REGIONAL_EXPERT_WINDOWS = frozenset({"inpit-expert-kansai"})

# Weights of the parts of the score (they add up to 1).
W_COVERAGE = 0.35  # share of the requested topics the organisation handles
W_FOCUS = 0.10  # share of the organisation's expertise that is requested
W_ROLE = 0.25  # KIND_AFFINITY: the natural first stop for the topic
W_PLACE = 0.20  # serves the company's prefecture / region / the nation
W_ROOM = 0.10  # free capacity
# An organisation at capacity is still shown (with the reason), lower.
FULL_PENALTY = 0.5

# Place scores.
PLACE_LOCAL = 1.0
PLACE_REGIONAL = 0.9
PLACE_NATIONAL = 0.8
PLACE_NEARBY = 0.3

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class ExpertSuggestion:
    """An expert of a suggested organisation whose expertise fits the case."""

    membership: Membership
    matched: tuple[str, ...]
    open_count: int
    reason: str

    @property
    def name(self) -> str:
        user = self.membership.user
        return person_name(user)


@dataclass(frozen=True)
class Suggestion:
    """An organisation to refer a case to, with its score (0–1) and why."""

    organisation: Organisation
    score: float
    reason: str
    matched: tuple[str, ...]
    open_count: int
    experts: tuple[ExpertSuggestion, ...] = ()


@dataclass(frozen=True)
class _Place:
    score: float
    label: str


def _place(
    org: Organisation,
    prefecture: Prefecture,
    branch_prefectures: dict[int, set[str]],
    region_of: dict[str, str],
    kinds_in_prefecture: set[str],
) -> _Place | None:
    """Return how the organisation serves the prefecture; None when it does not."""
    national = _("全国対応")
    if org.kind == Kind.INPIT_EXPERT_WINDOW:
        if org.code not in REGIONAL_EXPERT_WINDOWS:
            return _Place(PLACE_NATIONAL, national)
        if org.region_id == prefecture.region_id:
            return _Place(PLACE_REGIONAL, _("%(region)s地域を担当") % _region(org))
        return None
    if org.kind == Kind.METI_BUREAU:
        if org.region_id and org.region_id == prefecture.region_id:
            return _Place(PLACE_REGIONAL, _("%(region)s地域を担当") % _region(org))
        return None
    if org.kind == Kind.JPAA_BRANCH:
        # Every prefecture has exactly one 地域会 (Prefecture.jpaa_branch).
        if prefecture.code in branch_prefectures.get(org.pk, set()):
            return _Place(PLACE_LOCAL, _("%(pref)sを管轄") % {"pref": prefecture.name})
        return None
    if org.prefecture_id is None:
        return _Place(PLACE_NATIONAL, national)
    if org.prefecture_id == prefecture.code:
        return _Place(PLACE_LOCAL, _("%(pref)sの窓口") % {"pref": prefecture.name})
    # A desk in a neighbouring prefecture only when the company's own
    # prefecture has no desk of that kind.
    if (
        region_of.get(org.prefecture_id) == prefecture.region_id
        and org.kind not in kinds_in_prefecture
    ):
        return _Place(
            PLACE_NEARBY, _("近隣（%(pref)s）") % {"pref": org.prefecture.name}
        )
    return None


def _region(org: Organisation) -> dict[str, str]:
    return {"region": org.region.short_name if org.region else ""}


def suggestion_topics(actor: Actor, case: Case, topics: Iterable[str]) -> list[str]:
    """Return the requested tags, or the case's consultation topics when none.

    Raise ValidationFailed (field topics) for an unknown slug, or when
    there is nothing to route by.
    """
    tags = [t.strip() for t in topics if t and t.strip()]
    tags = list(dict.fromkeys(tags))
    if not tags:
        tags = list(
            ConsultationTopic.objects.filter(
                consultation__in=consultations_visible_to(actor).filter(case=case)
            )
            .order_by("topic")
            .values_list("topic", flat=True)
            .distinct()
        )
    if not tags:
        raise ValidationFailed(
            _("紹介先を提案するには相談分野を1つ以上指定してください。"),
            field="topics",
        )
    known = set(
        ExpertiseTag.objects.filter(slug__in=tags).values_list("slug", flat=True)
    )
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise ValidationFailed(
            _("相談分野が正しくありません: %(slugs)s") % {"slugs": ", ".join(unknown)},
            field="topics",
        )
    return tags


def referral_suggestions(
    actor: Actor,
    case: Case,
    topics: Iterable[str] = (),
    *,
    limit: int = DEFAULT_LIMIT,
) -> list[Suggestion]:
    """Return the organisations to refer the case to, best first.

    `topics` are topic slugs or routing tags (seeds/data/expertise.csv:
    management, drafting, unfair_dealing, counterfeit, academia); without
    them, the topics of the case's consultations are used. The case's own
    organisation, the actor's, and organisations already holding an open
    referral of the case are never suggested; nor are local desks that
    serve neither the company's prefecture nor its region.
    """
    if not cases_visible_to(actor).filter(pk=case.pk).exists():
        raise NotVisible(_("見つかりません。"))
    case = Case.objects.select_related("company__prefecture").get(pk=case.pk)
    tags = suggestion_topics(actor, case, topics)
    wanted = set(tags)
    prefecture = case.company.prefecture

    excluded = {case.organisation_id, actor.organisation_id}
    excluded |= set(
        Referral.objects.filter(case=case, status__in=OPEN_STATUSES).values_list(
            "to_organisation_id", flat=True
        )
    )
    candidates = list(
        Organisation.objects.filter(is_active=True, expertise__slug__in=tags)
        .exclude(pk__in=[pk for pk in excluded if pk is not None])
        .distinct()
        .select_related("prefecture", "region")
        .prefetch_related("expertise")
    )
    region_of = dict(Prefecture.objects.values_list("code", "region_id"))
    branch_prefectures: dict[int, set[str]] = {}
    for code, branch_id in Prefecture.objects.filter(
        jpaa_branch__isnull=False
    ).values_list("code", "jpaa_branch_id"):
        branch_prefectures.setdefault(branch_id, set()).add(code)
    kinds_in_prefecture = set(
        Organisation.objects.filter(
            is_active=True, prefecture_id=prefecture.code
        ).values_list("kind", flat=True)
    )
    open_counts = referral_open_counts(o.pk for o in candidates)

    suggestions = []
    for org in candidates:
        place = _place(
            org, prefecture, branch_prefectures, region_of, kinds_in_prefecture
        )
        if place is None:
            continue
        expertise = {t.slug: t.name for t in org.expertise.all()}
        matched = [t for t in tags if t in expertise]
        if not matched:
            continue
        coverage = len(matched) / len(wanted)
        focus = len(matched) / len(expertise)
        specialty = _specialty(org)
        role = max(_role(org, t, specialty) for t in matched)
        open_count = open_counts.get(org.pk, 0)
        room = max(0.0, 1 - open_count / org.capacity) if org.capacity else 0.0
        score = (
            W_COVERAGE * coverage
            + W_FOCUS * focus
            + W_ROLE * role
            + W_PLACE * place.score
            + W_ROOM * room
        )
        if org.kind in UMBRELLA_KINDS:
            score *= UMBRELLA_WEIGHT
        is_full = open_count >= org.capacity
        if is_full:
            score *= FULL_PENALTY
        suggestions.append(
            Suggestion(
                organisation=org,
                score=round(score, 3),
                reason=_reason(org, matched, expertise, specialty, place, open_count),
                matched=tuple(matched),
                open_count=open_count,
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.organisation.code))
    suggestions = suggestions[:limit]
    experts = expert_suggestions(
        organisation_ids=[s.organisation.pk for s in suggestions], tags=tags
    )
    return [
        replace(s, experts=tuple(experts.get(s.organisation.pk, ())))
        for s in suggestions
    ]


EXPERTS_PER_ORGANISATION = 3


def expert_suggestions(
    *, organisation_ids: list[int], tags: list[str]
) -> dict[int, list[ExpertSuggestion]]:
    """Return, per organisation, its experts whose expertise fits the tags.

    Ranked by how many tags they cover, then by room (open cases assigned to
    them against `Membership.capacity`); an expert at capacity comes last
    and says so. Two queries whatever the number of organisations.
    """
    if not organisation_ids:
        return {}
    members = list(
        active_memberships()
        .filter(
            organisation_id__in=organisation_ids,
            role=Role.EXPERT,
            expertise__slug__in=tags,
        )
        .distinct()
        .select_related("user")
        .prefetch_related("expertise")
    )
    load = dict(
        Case.objects.filter(
            status=CaseStatus.OPEN,
            assignee_id__in=[m.user_id for m in members],
        )
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    ranked: dict[int, list[tuple[tuple, ExpertSuggestion]]] = {}
    for member in members:
        names = {t.slug: t.name for t in member.expertise.all()}
        matched = tuple(t for t in tags if t in names)
        open_count = load.get(member.user_id, 0)
        full = open_count >= member.capacity
        reason = _("%(topics)sが専門・担当中 %(open)s/%(capacity)s件") % {
            "topics": "・".join(names[t] for t in matched),
            "open": open_count,
            "capacity": member.capacity,
        }
        if full:
            reason += _("（受入上限）")
        room = 1 - open_count / member.capacity if member.capacity else 0.0
        key = (full, -len(matched), -room, member.user.get_username())
        ranked.setdefault(member.organisation_id, []).append(
            (key, ExpertSuggestion(member, matched, open_count, reason))
        )
    return {
        org_id: [e for _key, e in sorted(items, key=lambda i: i[0])][
            :EXPERTS_PER_ORGANISATION
        ]
        for org_id, items in ranked.items()
    }


def _specialty(org: Organisation) -> str | None:
    return DESK_SPECIALTY.get(org.code) or KIND_SPECIALTY.get(org.kind)


def _role(org: Organisation, tag: str, specialty: str | None) -> float:
    """Return how natural a first stop org is for tag (KIND_AFFINITY)."""
    role = KIND_AFFINITY.get(tag, {}).get(org.kind, 0.0)
    if org.kind in SPECIALIST_KINDS:
        return 1.0 if tag == specialty else min(role, SECONDARY_ROLE)
    return role


def _reason(
    org: Organisation,
    matched: list[str],
    names: dict[str, str],
    specialty: str | None,
    place: _Place,
    open_count: int,
) -> str:
    """Return the one-line reason, e.g. 「営業秘密の専門窓口・全国対応」."""
    if specialty in matched:
        parts = [_("%(topic)sの専門窓口") % {"topic": names[specialty]}]
        others = [names[t] for t in matched if t != specialty]
        if others:
            parts.append(_("%(topics)sも対応") % {"topics": "・".join(others)})
    else:
        parts = [
            _("%(topics)sに対応（%(kind)s）")
            % {
                "topics": "・".join(names[t] for t in matched),
                "kind": org.get_kind_display(),
            }
        ]
    parts.append(place.label)
    if open_count >= org.capacity:
        parts.append(
            _("受入上限（%(open)s/%(capacity)s件）")
            % {"open": open_count, "capacity": org.capacity}
        )
    elif open_count:
        parts.append(
            _("受入中 %(open)s/%(capacity)s件")
            % {"open": open_count, "capacity": org.capacity}
        )
    return "・".join(parts)
