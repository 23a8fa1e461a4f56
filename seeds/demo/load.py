"""Synthetic demo data: companies, cases, consultations, referrals and more.

A fresh machine should show a living network on first start (README "run"),
and trainers and reviewers need the same picture every time, so the generator
is deterministic (one ``random.Random(seed)``) and runs once per database: a
marker audit event makes every later call return at once, which lets the run
script call it on every start.

Rows are written with ``bulk_create`` rather than through the services: the
services write an audit event per row, which demo data must not leave, and
one-row-at-a-time writes would make large scales (``--scale``) slow. The rules
the services enforce are therefore kept by hand here (check digits, fiscal
years, business-day deadlines, consent before referral) and asserted in
tests/crm/test_demo_data.py. This module runs the passes in order;
seeds/demo/companies.py and seeds/demo/case_records.py write the rows.
"""

from __future__ import annotations

import random
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import (
    AuditEvent,
)
from seeds.demo.case_records import load_follow_ups, load_outcomes, load_referrals
from seeds.demo.companies import (
    load_cases,
    load_companies,
    load_consents,
    load_consultations,
)
from seeds.demo.generator import (
    COMPANIES_PER_SCALE,
    CONSULTATIONS_PER_COMPANY,
    DemoGenerator,
    empty_counts,
)
from seeds.demo.users import DEMO_USERS
from support_network.errors import DomainError
from support_network.models import Organisation, Prefecture

# The audit event that marks a database as already holding demo data.
MARKER_ACTION = "demo_data.load"


class DemoDataError(DomainError):
    """Demo data cannot be loaded into this database (400)."""

    default_code = "demo_data_unavailable"


def _check_network_seeded() -> None:
    """Raise DemoDataError unless seed_network has loaded the organisations."""
    needed = {demo.organisation_code for demo in DEMO_USERS} | {
        f"{kind}-{code:02d}"
        for kind in ("inpit-window", "yorozu", "cci-federation")
        for code in range(1, 48)
    }
    found = set(
        Organisation.objects.filter(code__in=needed).values_list("code", flat=True)
    )
    if Prefecture.objects.count() != 47 or found != needed:
        raise DemoDataError(
            _(
                "ネットワークの組織が登録されていません。先に "
                "manage.py seed_network を実行してください。"
            ),
            code="network_not_seeded",
        )


def demo_data_exists() -> bool:
    """Return whether demo data has been loaded into this database."""
    return AuditEvent.objects.filter(action=MARKER_ACTION).exists()


def demo_data_load(
    *,
    scale: int = 1,
    seed: int = 20261121,
    today: date | None = None,
    companies: int | None = None,
) -> dict[str, int]:
    """Load synthetic demo data once and return the rows created, by kind.

    Return all-zero counts when demo data already exists. *companies*
    overrides the company count (the other counts follow it), so tests can
    load a small set quickly.

    Raises:
        DemoDataError: if the network has not been seeded, or scale < 1.
    """
    if scale < 1 or (companies is not None and companies < 1):
        raise DemoDataError(_("規模は1以上で指定してください。"), code="invalid_scale")
    today = today or timezone.localdate()
    with transaction.atomic():
        if demo_data_exists():
            return empty_counts()
        _check_network_seeded()
        company_count = companies or COMPANIES_PER_SCALE * scale
        generator = DemoGenerator(rng=random.Random(seed), seed=seed, today=today)
        generator.create_demo_users()
        _load(generator, company_count)
        AuditEvent.objects.create(
            action=MARKER_ACTION,
            data={"seed": seed, "scale": scale, "counts": generator.counts},
        )
    return generator.counts


def _load(gen: DemoGenerator, company_count: int) -> None:
    """Run the passes of the generator in dependency order."""
    companies, products = load_companies(gen, company_count)
    drafts = load_cases(gen, companies, products)
    load_consultations(gen, drafts, company_count * CONSULTATIONS_PER_COMPANY)
    consents = load_consents(gen, drafts)
    load_follow_ups(gen, drafts)
    load_referrals(gen, drafts, consents)
    load_outcomes(gen, drafts)
