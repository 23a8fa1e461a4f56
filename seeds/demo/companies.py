"""Demo rows of clients: companies, cases, consultations and consents.

The first passes of demo_data_load (seeds/demo/load.py), in bulk.
"""

from __future__ import annotations

from datetime import timedelta

from crm.choices import (
    CaseStatus,
    ConsentMethod,
    ConsentScope,
)
from crm.models import (
    Case,
    Company,
    Consent,
    Consultation,
    ConsultationIpType,
    ConsultationTopic,
)
from crm.services.companies import company_derive_keys
from crm.services.facts import consultation_facts_refresh
from seeds.demo.generator import (
    BATCH_SIZE,
    CASES_PER_COMPANY,
    CaseDraft,
    DemoGenerator,
    weighted,
)
from seeds.demo.vocabulary import BRANDS, COUNTRIES, JOINT_ATTENDANCE_RATE
from support_network.choices import OrganisationKind


def load_companies(gen: DemoGenerator, count: int) -> tuple[list[Company], list]:
    """Create *count* companies; return them and the products of each."""
    companies, products = [], []
    for _n in range(count):
        company, company_products = gen.company()
        company_derive_keys(company)
        companies.append(company)
        products.append(company_products)
    # Numbers already in the database (companies registered by hand) are
    # replaced, so the partial unique constraint holds.
    numbers = [c.corporate_number for c in companies if c.corporate_number]
    taken: set[str] = set()
    for start in range(0, len(numbers), BATCH_SIZE):
        taken |= set(
            Company.objects.filter(
                corporate_number__in=numbers[start : start + BATCH_SIZE]
            ).values_list("corporate_number", flat=True)
        )
    for company in companies:
        while company.corporate_number in taken:
            type_code = company.corporate_number[5:7]
            company.corporate_number = gen.corporate_number(
                type_code, company.prefecture_id
            )
    Company.objects.bulk_create(companies, batch_size=BATCH_SIZE)
    gen.counts["companies"] = len(companies)
    return companies, products


def load_cases(gen: DemoGenerator, companies: list[Company], products: list) -> list:
    """Draft the cases (saved with their consultations) and return the drafts."""
    rng = gen.rng
    case_count = len(companies) * CASES_PER_COMPANY
    # Nine in ten companies have a case; the rest were registered only.
    with_case = list(range(len(companies)))
    rng.shuffle(with_case)
    firsts = with_case[: max(1, round(len(companies) * 0.9))]
    owners = firsts + [
        rng.choice(firsts) for _n in range(max(0, case_count - len(firsts)))
    ]
    drafts = []
    for index in owners:
        company = companies[index]
        theme = gen.theme_for(company)
        words = {
            "product": rng.choice(products[index]),
            "brand": rng.choice(BRANDS),
            "country": rng.choice(COUNTRIES),
        }
        owner = gen.owner_code(company, theme)
        assignee = gen.pick_staff(owner)
        case = Case(
            company=company,
            organisation=gen.organisations[owner],
            title=theme.title.format(**words),
            is_confidential=rng.random() < theme.confidential_rate,
            assignee=assignee,
            created_by=assignee,
        )
        drafts.append(CaseDraft(case=case, theme=theme, words=words))
        if company.registered_by_id is None:
            company.registered_by = case.organisation
    Company.objects.bulk_update(
        [c for c in companies if c.registered_by_id], ["registered_by"], BATCH_SIZE
    )
    return drafts


def load_consultations(gen: DemoGenerator, drafts: list, total: int) -> None:
    """Create the cases and *total* consultations with topics and IP types."""
    rng = gen.rng
    per_case = [1] * len(drafts)
    # A few cases run long; most have one or two consultations.
    weights = [rng.choice((1, 1, 1, 2, 4)) for _d in drafts]
    for index in rng.choices(
        range(len(drafts)), weights=weights, k=max(0, total - len(drafts))
    ):
        per_case[index] += 1
    for draft, count in zip(drafts, per_case, strict=True):
        case = draft.case
        for on in gen.consultation_dates(count):
            summary = draft.fill(rng.choice(draft.theme.summaries))
            draft.consultations.append(
                gen.consultation(draft, on, case.assignee, summary=summary)
            )
        case.opened_on = draft.consultations[0].occurred_on
        last = draft.consultations[-1].occurred_on
        if (gen.today - last).days > 120 and rng.random() < 0.7:
            case.status = CaseStatus.CLOSED
            case.closed_on = min(last + timedelta(days=rng.randint(7, 60)), gen.today)
    Case.objects.bulk_create([d.case for d in drafts], batch_size=BATCH_SIZE)
    consultations = []
    for draft in drafts:
        consultations.extend(draft.consultations)
    first_of_company: dict[int, Consultation] = {}
    for c in consultations:
        first = first_of_company.get(c.company_id)
        if first is None or c.occurred_at < first.occurred_at:
            first_of_company[c.company_id] = c
    for c in first_of_company.values():
        c.is_company_first = True
    Consultation.objects.bulk_create(consultations, batch_size=BATCH_SIZE)

    topics, ip_types, attendances = [], [], []
    attendee_model = Consultation.attendees.through
    for draft in drafts:
        theme = draft.theme
        for consultation in draft.consultations:
            extra = rng.randint(0, min(2, len(theme.topics) - 1))
            chosen = [theme.topics[0], *rng.sample(theme.topics[1:], extra)]
            topics += [
                ConsultationTopic(consultation=consultation, topic=t) for t in chosen
            ]
            if rng.random() < 0.85:
                kinds = rng.sample(theme.ip_types, rng.randint(1, len(theme.ip_types)))
                ip_types += [
                    ConsultationIpType(consultation=consultation, ip_type=k)
                    for k in kinds
                ]
            attendances += _joint_attendance(gen, consultation, attendee_model)
    ConsultationTopic.objects.bulk_create(topics, batch_size=BATCH_SIZE)
    ConsultationIpType.objects.bulk_create(ip_types, batch_size=BATCH_SIZE)
    attendee_model.objects.bulk_create(attendances, batch_size=BATCH_SIZE)
    consultation_facts_refresh(consultation_ids=[c.pk for c in consultations])
    gen.counts["cases"] = len(drafts)
    gen.counts["consultations"] = len(consultations)
    gen.counts["consultation_topics"] = len(topics)
    gen.counts["consultation_ip_types"] = len(ip_types)
    gen.counts["joint_attendances"] = len({a.consultation_id for a in attendances})


def _joint_attendance(gen: DemoGenerator, consultation: Consultation, model) -> list:
    """Return attendee rows when an INPIT window and a yorozu met the client together.

    Both organisations are listed (相互同席), so "linked INPIT–yorozu
    consultations" (DESIGN.md statistics) can be counted from attendees alone.
    """
    organisation = consultation.organisation
    if organisation.kind not in (
        OrganisationKind.INPIT_WINDOW,
        OrganisationKind.YOROZU,
    ) or (gen.rng.random() >= JOINT_ATTENDANCE_RATE):
        return []
    code = organisation.prefecture_id
    pair = [
        gen.organisations[f"inpit-window-{code}"],
        gen.organisations[f"yorozu-{code}"],
    ]
    return [
        model(consultation_id=consultation.pk, organisation_id=org.pk) for org in pair
    ]


def load_consents(gen: DemoGenerator, drafts: list) -> dict[int, Consent]:
    """Record network-wide consents for ~40% of the companies.

    The consent is taken at the company's first consultation, by the window
    that held it (APPI art. 27).
    """
    rng = gen.rng
    first_case: dict[int, CaseDraft] = {}
    for draft in sorted(drafts, key=lambda d: d.case.opened_on):
        first_case.setdefault(draft.case.company_id, draft)
    consents = {}
    for company_id, draft in first_case.items():
        # 0.44 of the nine in ten companies with a case: ~40% of all.
        if rng.random() >= 0.44:
            continue
        consents[company_id] = Consent(
            company_id=company_id,
            scope=ConsentScope.NETWORK,
            obtained_on=draft.case.opened_on,
            method=weighted(
                rng,
                [
                    (ConsentMethod.WRITTEN, 50),
                    (ConsentMethod.ELECTRONIC, 35),
                    (ConsentMethod.VERBAL, 15),
                ],
            ),
            recorded_by=draft.case.assignee,
            organisation=draft.case.organisation,
        )
    Consent.objects.bulk_create(consents.values(), batch_size=BATCH_SIZE)
    gen.counts["consents"] = len(consents)
    return consents
