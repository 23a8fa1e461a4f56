"""Demo rows that follow a case: follow-ups, referrals with their provision
records, and outcomes.

The later passes of demo_data_load (seeds/demo/load.py), in bulk; a
referral is only sent with the consent the rules ask for.
"""

from __future__ import annotations

from datetime import date, timedelta

from crm.choices import (
    CaseStatus,
    FollowUpStatus,
    OutcomeKind,
    ReferralStatus,
)
from crm.models import (
    Consultation,
    FollowUp,
    Outcome,
    ProvisionRecord,
    Referral,
    ReferralTopic,
)
from seeds.demo.generator import BATCH_SIZE, CaseDraft, DemoGenerator, jst, random_date
from seeds.demo.vocabulary import (
    OUTCOME_RATE,
    PROVISION_ITEMS,
    REFERRAL_OUTCOME_NOTES,
    REFERRAL_REASONS,
    THEME_EXPERT_WINDOW,
)
from support_network import calendar
from support_network.choices import OrganisationKind
from support_network.models import Organisation


def load_follow_ups(gen: DemoGenerator, drafts: list) -> None:
    """Give ~30% of consultations a next action, recent ones more often.

    Old follow-ups are mostly done; recent ones are open, a few overdue, so
    the reminder sweep has work on the first day.
    """
    rng = gen.rng
    candidates = [(d, c) for d in drafts for c in d.consultations]
    recent = gen.today - timedelta(days=60)

    # Weighted sampling without replacement (Efraimidis–Spirakis).
    def key(pair) -> float:
        weight = 5 if pair[1].occurred_on >= recent else 1
        return rng.random() ** (1 / weight)

    keyed = sorted(((key(p), i) for i, p in enumerate(candidates)), reverse=True)
    chosen = sorted(i for _k, i in keyed[: round(len(candidates) * 0.3)])
    follow_ups, consultations = [], []
    for index in chosen:
        draft, consultation = candidates[index]
        case = draft.case
        note = rng.choice(draft.theme.next_actions)
        consultation.next_action = note
        consultations.append(consultation)
        due_on = calendar.add_business_days(
            consultation.occurred_on, rng.choice((3, 5, 10, 15, 20))
        )
        if case.status == CaseStatus.CLOSED:
            is_done = True
        elif due_on < gen.today:
            is_done = rng.random() < (0.9 if (gen.today - due_on).days > 30 else 0.5)
        else:
            is_done = rng.random() < 0.1
        done_at = None
        if is_done:
            latest = min(due_on + timedelta(days=3), gen.yesterday)
            if case.closed_on:
                latest = min(latest, case.closed_on)
            earliest = consultation.occurred_on + timedelta(days=1)
            if earliest > latest:
                is_done = False  # too recent to have been done already
            else:
                done_at = jst(random_date(rng, earliest, latest), rng.randint(9, 17))
        follow_ups.append(
            FollowUp(
                case=case,
                consultation=consultation,
                organisation=case.organisation,
                assignee=consultation.author,
                due_on=due_on,
                note=note,
                status=FollowUpStatus.DONE if is_done else FollowUpStatus.OPEN,
                done_at=done_at,
            )
        )
    Consultation.objects.bulk_update(consultations, ["next_action"], BATCH_SIZE)
    FollowUp.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
    gen.counts["follow_ups"] = len(follow_ups)


def _referral_target(gen: DemoGenerator, draft: CaseDraft) -> Organisation | None:
    """Return where a case of this theme goes next, never its own organisation."""
    owner = draft.case.organisation
    code = owner.prefecture_id
    choices = []
    if draft.theme.slug in THEME_EXPERT_WINDOW:
        choices.append(THEME_EXPERT_WINDOW[draft.theme.slug])
    if owner.kind == OrganisationKind.INPIT_WINDOW:
        choices.append(f"yorozu-{code}")
        branch = owner.prefecture.jpaa_branch if owner.prefecture else None
        if branch is not None:
            choices.append(branch.code)
    else:
        choices.append(f"inpit-window-{code}")
    choices = [c for c in choices if c in gen.organisations and c != owner.code]
    return gen.organisations[gen.rng.choice(choices)] if choices else None


def load_referrals(gen: DemoGenerator, drafts: list, consents: dict) -> None:
    """Refer ~5% of the open cases whose company gave network-wide consent.

    A quarter go to the most recent cases so the inboxes show unanswered
    referrals; the rest are spread over the years and mostly completed.
    """
    rng = gen.rng
    candidates = [
        d
        for d in drafts
        if d.case.status == CaseStatus.OPEN
        and d.case.company_id in consents
        and d.case.organisation.prefecture_id
    ]
    wanted = max(1, round(len(drafts) * 0.05)) if candidates else 0
    candidates.sort(key=lambda d: d.consultations[-1].occurred_at, reverse=True)
    recent = candidates[: max(1, wanted // 4)]
    rest = candidates[len(recent) :]
    picked = recent + rng.sample(rest, min(len(rest), wanted - len(recent)))
    referrals, topics, records = [], [], []
    for draft in picked:
        target = _referral_target(gen, draft)
        if target is None:
            continue
        case = draft.case
        consultation = draft.consultations[-1]
        sent_at = consultation.occurred_at + timedelta(hours=2)
        sent_on = calendar.local_date(sent_at)
        referral = Referral(
            case=case,
            from_organisation=case.organisation,
            to_organisation=target,
            sent_by=consultation.author,
            reason=REFERRAL_REASONS.get(
                target.kind, REFERRAL_REASONS[OrganisationKind.INPIT_WINDOW]
            ),
            consent=consents[case.company_id],
            sent_at=sent_at,
            respond_by=calendar.add_business_days(sent_on, 3),
        )
        _answer_referral(gen, referral, sent_on)
        referrals.append(referral)
        topics.append(draft.theme.topics[:2])
        records.append(
            ProvisionRecord(
                referral=referral,
                provider=case.organisation,
                recipient=target,
                company=case.company,
                provided_on=sent_on,
                items_shared=list(PROVISION_ITEMS),
                consent=referral.consent,
            )
        )
    Referral.objects.bulk_create(referrals, batch_size=BATCH_SIZE)
    ReferralTopic.objects.bulk_create(
        [
            ReferralTopic(referral=referral, topic=topic)
            for referral, slugs in zip(referrals, topics, strict=True)
            for topic in slugs
        ],
        batch_size=BATCH_SIZE,
    )
    ProvisionRecord.objects.bulk_create(records, batch_size=BATCH_SIZE)
    gen.counts["referrals"] = len(referrals)
    gen.counts["provision_records"] = len(records)


def _answer_referral(gen: DemoGenerator, referral: Referral, sent_on: date) -> None:
    """Move a referral as far along its life cycle as its age allows.

    The receiver answers within 1–3 business days (DESIGN.md "Rules"); a
    referral sent in the last days may still be waiting, and one older than
    the 10-business-day expiry never is.
    """
    rng = gen.rng
    answered_on = calendar.add_business_days(sent_on, rng.randint(1, 3))
    if answered_on >= gen.today:
        return
    waiting = calendar.business_days_between(sent_on, gen.today) <= 10
    if waiting and rng.random() < 0.3:
        return
    referral.status = ReferralStatus.ACCEPTED
    referral.answered_at = jst(answered_on, rng.randint(9, 17))
    referral.answer_business_days = calendar.business_days_between(sent_on, answered_on)
    referral.answered_by = gen.pick_staff(referral.to_organisation.code)
    referral.answer_note = "お引き受けします。担当者から企業に連絡します。"
    completed_on = answered_on + timedelta(days=rng.randint(7, 60))
    if completed_on >= gen.today or rng.random() < 0.25:
        return
    referral.status = ReferralStatus.COMPLETED
    referral.completed_at = jst(completed_on, rng.randint(9, 17))
    referral.outcome_note = rng.choice(REFERRAL_OUTCOME_NOTES)


# Application prefix, registration wording and a plausible range of recent
# registration numbers, by IP type.
REGISTRIES = {
    "patent": ("特願", "特許第{n}号", 7_400_000, 7_800_000),
    "trademark": ("商願", "商標登録第{n}号", 6_700_000, 7_100_000),
    "design": ("意願", "意匠登録第{n}号", 1_750_000, 1_800_000),
}
THEME_IP_TYPE = {"trademark": "trademark", "regional_brand": "trademark"}


def _outcome_for(gen: DemoGenerator, draft: CaseDraft, on: date) -> Outcome:
    """Return an outcome that fits the case's theme, dated *on*."""
    rng = gen.rng
    slug = draft.theme.slug
    ip_type = THEME_IP_TYPE.get(slug, "design" if slug == "design" else "patent")
    prefix, registration, low, high = REGISTRIES[ip_type]
    amount = None
    if slug == "licensing":
        kind, reference, ip_type = OutcomeKind.LICENCE, "", ""
        amount = rng.randint(10, 300) * 100_000
    elif slug in ("ip_finance", "startup") and rng.random() < 0.6:
        kind, reference, ip_type = OutcomeKind.FINANCING, "", ""
        amount = rng.randint(10, 300) * 1_000_000
    elif slug == "overseas":
        # 中小企業等外国出願支援事業: at most ¥1.5M per patent case (reference/programs.md).
        kind, reference, ip_type = OutcomeKind.SUBSIDY, "", ""
        amount = rng.randint(3, 15) * 100_000
    elif rng.random() < 0.7:
        kind = OutcomeKind.FILING
        reference = f"{prefix}{on.year}-{rng.randint(1, 60_000):06d}"
    else:
        kind = OutcomeKind.REGISTRATION
        reference = registration.format(n=rng.randint(low, high))
    case = draft.case
    return Outcome(
        case=case,
        company=case.company,
        organisation=case.organisation,
        kind=kind,
        ip_type=ip_type,
        occurred_on=on,
        reference=reference,
        amount_yen=amount,
        note=draft.fill("{product}"),
        recorded_by=case.assignee,
    )


def load_outcomes(gen: DemoGenerator, drafts: list) -> None:
    """Record an outcome for some cases, after their last consultation."""
    rng = gen.rng
    outcomes = []
    for draft in drafts:
        if rng.random() >= OUTCOME_RATE:
            continue
        last = draft.consultations[-1].occurred_on
        if last >= gen.yesterday:
            continue
        on = random_date(
            rng,
            last + timedelta(days=1),
            min(last + timedelta(days=120), gen.yesterday),
        )
        outcomes.append(_outcome_for(gen, draft, on))
    Outcome.objects.bulk_create(outcomes, batch_size=BATCH_SIZE)
    gen.counts["outcomes"] = len(outcomes)
