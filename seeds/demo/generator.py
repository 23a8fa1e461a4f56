"""The deterministic generator of demo rows: one ``random.Random(seed)``.

It draws companies, case drafts, consultations and dates from the
vocabulary (seeds/demo/vocabulary.py) and counts what the loaders write, so
the same seed gives the same picture every time.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from crm.choices import (
    Channel,
    CompanyKind,
)
from crm.models import (
    Case,
    Company,
    Consultation,
)
from crm.rules.corporate_number import corporate_number_check_digit
from seeds.demo.users import DEMO_PASSWORD, DEMO_TOTP_SECRET, DEMO_USERS
from seeds.demo.vocabulary import (
    ACADEMIA_THEME,
    ADVICE,
    CHANNEL_WEIGHTS,
    CITIES,
    EXPERT_OWNED_RATE,
    GIVEN_NAMES,
    INDUSTRIES,
    PREFECTURE_WEIGHTS,
    SOLE_PROPRIETOR_SUFFIXES,
    STEMS,
    SURNAMES,
    THEMES,
    UNIVERSITY_KINDS,
    UNIVERSITY_PRODUCTS,
    UNIVERSITY_STEMS,
    Industry,
    Theme,
)
from support_network import calendar
from support_network.choices import OrganisationKind, Role
from support_network.mfa import totp_device_install
from support_network.models import Organisation, Prefecture
from support_network.services.network import user_create_or_update

# Sizes at scale 1: enough to fill every list and chart of the demo while the
# first start stays quick (about 3 s on SQLite).
COMPANIES_PER_SCALE = 200
CASES_PER_COMPANY = 2
CONSULTATIONS_PER_COMPANY = 5

COUNT_KINDS = (
    "users",
    "companies",
    "consents",
    "cases",
    "consultations",
    "consultation_topics",
    "consultation_ip_types",
    "joint_attendances",
    "follow_ups",
    "referrals",
    "provision_records",
    "outcomes",
)


BATCH_SIZE = 500

# --- Generator ----------------------------------------------------------------


@dataclass
class CaseDraft:
    """A case with what the later passes need to know about it."""

    case: Case
    theme: Theme
    # What the case is about, the same in its title and every summary.
    words: dict[str, str]
    consultations: list[Consultation] = field(default_factory=list)

    def fill(self, template: str) -> str:
        return template.format(**self.words)


def weighted(rng: random.Random, pairs) -> object:
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights)[0]


def jst(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=calendar.JST)


def _business_day_near(d: date, lower: date, upper: date) -> date:
    """Return the business day on or before *d*, else after it, within bounds.

    Consultations happen on working days; a weekend date moves back, or
    forward when that would leave the bounds.
    """
    back = d
    while back >= lower:
        if calendar.is_business_day(back):
            return back
        back -= timedelta(days=1)
    ahead = d
    while ahead <= upper:
        if calendar.is_business_day(ahead):
            return ahead
        ahead += timedelta(days=1)
    return d


def random_date(rng: random.Random, lower: date, upper: date) -> date:
    return lower + timedelta(days=rng.randint(0, max(0, (upper - lower).days)))


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KINDS, 0)


class DemoGenerator:
    """Build the demo rows of one run; state shared by the passes below."""

    def __init__(self, *, rng: random.Random, seed: int, today: date) -> None:
        self.rng = rng
        self.seed = seed
        self.today = today
        self.yesterday = today - timedelta(days=1)
        fy_start, _end = calendar.fiscal_year_bounds(2024)
        # FY2024 onwards; a clock set before then still gets a year of data.
        self.start = min(fy_start, today - timedelta(days=365))
        self.counts = empty_counts()
        self.organisations = {
            org.code: org
            for org in Organisation.objects.select_related("prefecture", "region")
        }
        self.prefectures = list(Prefecture.objects.order_by("code"))
        self.staff: dict[str, list] = defaultdict(list)
        self.staffed: set[str] = set()
        self.used_numbers: set[str] = set()
        self.used_names: set[tuple[str, str]] = set()

    # Users ------------------------------------------------------------------

    def create_demo_users(self) -> None:
        """Create the demo logins of DEMO_USERS; staff among them take cases."""
        for demo in DEMO_USERS:
            membership, created = user_create_or_update(
                username=demo.username,
                organisation_code=demo.organisation_code,
                role=demo.role,
                password=DEMO_PASSWORD,
                email=f"{demo.username}@example.invalid",
                validate=False,
            )
            user = membership.user
            user.last_name, _sep, user.first_name = demo.display_name.partition(" ")
            user.is_staff = demo.is_staff
            user.is_superuser = demo.is_superuser
            user.save(
                update_fields=["last_name", "first_name", "is_staff", "is_superuser"]
            )
            if demo.role in (Role.MANAGER, Role.ORG_ADMIN):
                totp_device_install(user=user, secret=DEMO_TOTP_SECRET)
            self.counts["users"] += created
            if demo.role in (Role.WINDOW_STAFF, Role.EXPERT):
                self.staff[demo.organisation_code].append(user)

    def staff_of(self, code: str) -> list:
        """Return the staff who take an organisation's cases, creating one if none.

        Organisations without a demo login get one staff member with an
        unusable password, so every case has a real creator and assignee.
        """
        if code not in self.staffed:
            self.staffed.add(code)
            organisation = self.organisations[code]
            role = (
                Role.EXPERT
                if organisation.kind == OrganisationKind.INPIT_EXPERT_WINDOW
                else Role.WINDOW_STAFF
            )
            membership, created = user_create_or_update(
                username=f"demo-{code}",
                organisation_code=code,
                role=role,
                validate=False,
            )
            # A name of its own per organisation, independent of the main draw.
            name_rng = random.Random(f"{self.seed}-{code}")
            user = membership.user
            user.last_name = name_rng.choice(SURNAMES)[0]
            user.first_name = name_rng.choice(GIVEN_NAMES)
            user.save(update_fields=["last_name", "first_name"])
            self.counts["users"] += created
            self.staff[code].append(user)
        return self.staff[code]

    def pick_staff(self, code: str):
        staff = self.staff_of(code)
        # The demo login gets most of its organisation's cases.
        return staff[0] if self.rng.random() < 0.6 else self.rng.choice(staff)

    # Companies ----------------------------------------------------------------

    def corporate_number(self, type_code: str, prefecture: str) -> str:
        """Return a fresh, well-formed 法人番号 shaped like a registry number.

        The 12-digit base is registry office (4 digits) + legal-form code (2)
        + serial (6) as for real 会社法人等番号 (reference/houjin_bangou.md §1).
        """
        while True:
            base = (
                f"{int(prefecture):02d}{self.rng.randint(0, 99):02d}"
                f"{type_code}{self.rng.randint(0, 999_999):06d}"
            )
            number = f"{corporate_number_check_digit(base)}{base}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def company(self) -> tuple[Company, tuple[str, ...]]:
        """Return an unsaved company and the products it might consult about."""
        rng = self.rng
        prefecture = weighted(
            rng,
            [(p, PREFECTURE_WEIGHTS.get(p.code, 1)) for p in self.prefectures],
        )
        city = rng.choice(CITIES.get(prefecture.code, ("",)))
        roll = rng.random()
        if roll < 0.03:
            company = self.university(prefecture)
            company.city = city
            return company, UNIVERSITY_PRODUCTS
        industry = weighted(rng, [(i, i.weight) for i in INDUSTRIES])
        if roll < 0.15:
            company = self.sole_proprietor(prefecture, industry)
        else:
            company = self.corporation(prefecture, industry)
        company.city = city
        return company, industry.products

    def unique_name(self, make, prefecture: Prefecture) -> tuple[str, str]:
        """Return (name, kana) from make(), avoiding repeats within a prefecture."""
        for _attempt in range(20):
            name, kana = make()
            if (name, prefecture.code) not in self.used_names:
                break
        # Large scales run out of combinations; a repeated name in one
        # prefecture is realistic (法人番号 tells them apart).
        self.used_names.add((name, prefecture.code))
        return name, kana

    def corporation(self, prefecture: Prefecture, industry: Industry) -> Company:
        rng = self.rng
        form_roll = rng.random()
        if form_roll < 0.75:
            form, type_code = "株式会社", "01"
        elif form_roll < 0.88:
            form, type_code = "有限会社", "02"
        else:
            form, type_code = "合同会社", "03"
        is_prefix = form != "株式会社" or rng.random() < 0.55

        def make() -> tuple[str, str]:
            stem, stem_kana = rng.choice(STEMS)
            suffix, suffix_kana = rng.choice(industry.suffixes)
            base = stem + suffix
            name = form + base if is_prefix else base + form
            # NTA furigana leaves the legal form out (houjin_bangou.md §4).
            return name, stem_kana + suffix_kana

        name, kana = self.unique_name(make, prefecture)
        # 有限会社 can no longer be formed after the 会社法 of 2006-05-01, and
        # 合同会社 only since then.
        if form == "有限会社":
            founded_on = random_date(rng, date(1960, 1, 1), date(2006, 4, 30))
        elif form == "合同会社" or rng.random() < 0.2:
            founded_on = random_date(rng, date(2006, 5, 1), date(2025, 12, 31))
        else:
            founded_on = random_date(rng, date(1960, 1, 1), date(2025, 12, 31))
        founded_on = min(founded_on, self.yesterday)
        employees = self.employees()
        capital = self.capital(form, employees)
        has_number = rng.random() < 0.82
        return Company(
            corporate_number=(
                self.corporate_number(type_code, prefecture.code)
                if has_number
                else None
            ),
            name=name,
            name_kana=kana,
            kind=CompanyKind.CORPORATION,
            prefecture=prefecture,
            industry=industry.code,
            capital_yen=capital if rng.random() > 0.05 else None,
            employees=employees if rng.random() > 0.05 else None,
            founded_on=founded_on,
            controlled_by_large_company=rng.random() < 0.03,
        )

    def employees(self) -> int:
        low, high = weighted(
            self.rng,
            [
                ((1, 5), 30),
                ((6, 20), 30),
                ((21, 50), 20),
                ((51, 300), 15),
                ((301, 2000), 4),
                ((2001, 8000), 1),
            ],
        )
        return self.rng.randint(low, high)

    def capital(self, form: str, employees: int) -> int:
        if form == "有限会社":
            return 3_000_000
        if employees <= 20:
            man_yen = self.rng.choice((100, 300, 500, 1000, 1000, 2000))
        elif employees <= 300:
            man_yen = self.rng.choice((1000, 3000, 5000, 9000, 10000))
        else:
            man_yen = self.rng.choice((10000, 30000, 50000, 100000, 300000))
        return man_yen * 10_000

    def sole_proprietor(self, prefecture: Prefecture, industry: Industry) -> Company:
        rng = self.rng

        def make() -> tuple[str, str]:
            surname, surname_kana = rng.choice(SURNAMES)
            suffix, suffix_kana = rng.choice(SOLE_PROPRIETOR_SUFFIXES)
            return surname + suffix, surname_kana + suffix_kana

        name, kana = self.unique_name(make, prefecture)
        return Company(
            # Sole proprietors have no 法人番号 (reference/houjin_bangou.md §1).
            corporate_number=None,
            name=name,
            name_kana=kana,
            kind=CompanyKind.SOLE_PROPRIETOR,
            prefecture=prefecture,
            industry=industry.code,
            employees=rng.randint(0, 4),
            founded_on=min(
                random_date(rng, date(1990, 1, 1), date(2025, 12, 31)),
                self.yesterday,
            ),
        )

    def university(self, prefecture: Prefecture) -> Company:
        rng = self.rng

        def make() -> tuple[str, str]:
            stem, stem_kana = rng.choice(UNIVERSITY_STEMS)
            kind, kind_kana = rng.choice(UNIVERSITY_KINDS)
            return stem + kind, stem_kana + kind_kana

        name, kana = self.unique_name(make, prefecture)
        return Company(
            corporate_number=self.corporate_number("05", prefecture.code),
            name=name,
            name_kana=kana,
            kind=CompanyKind.UNIVERSITY,
            prefecture=prefecture,
            industry="O",
            founded_on=random_date(rng, date(1949, 5, 31), date(2004, 4, 1)),
        )

    # Cases and consultations ----------------------------------------------------

    def owner_code(self, company: Company, theme: Theme) -> str:
        """Return the organisation that owns a new case of the company.

        Mostly a window of the company's prefecture; sometimes one elsewhere in
        its region, where companies near a big city also go.
        """
        rng = self.rng
        if (
            theme.slug == "trade_secret"
            and rng.random() < EXPERT_OWNED_RATE
            and "inpit-expert-trade-secret" in self.organisations
        ):
            return "inpit-expert-trade-secret"
        prefecture = company.prefecture
        if rng.random() < 0.1:
            prefecture = rng.choice(
                [p for p in self.prefectures if p.region_id == prefecture.region_id]
            )
        kind = weighted(
            rng, [("inpit-window", 60), ("yorozu", 30), ("cci-federation", 10)]
        )
        return f"{kind}-{prefecture.code}"

    def theme_for(self, company: Company) -> Theme:
        rng = self.rng
        if company.kind == CompanyKind.UNIVERSITY:
            return ACADEMIA_THEME if rng.random() < 0.7 else THEMES[0]
        if company.industry in ("A", "09") and rng.random() < 0.3:
            return next(t for t in THEMES if t.slug == "regional_brand")
        return weighted(
            rng, [(t, t.weight) for t in THEMES if t.slug != "regional_brand"]
        )

    def consultation_dates(self, count: int) -> list[date]:
        """Return the sorted dates of a case's consultations, business days."""
        rng = self.rng
        first = _business_day_near(
            random_date(rng, self.start, self.yesterday), self.start, self.yesterday
        )
        window_end = min(first + timedelta(days=300), self.yesterday)
        dates = [first] + [
            _business_day_near(random_date(rng, first, window_end), first, window_end)
            for _n in range(count - 1)
        ]
        return sorted(dates)

    def consultation(
        self, draft: CaseDraft, on: date, author, *, summary: str
    ) -> Consultation:
        rng = self.rng
        channel = weighted(rng, CHANNEL_WEIGHTS)
        duration = (
            rng.choice((15, 30))
            if channel == Channel.EMAIL
            else rng.choice((15, 30, 45, 60, 60, 90, 120))
        )
        occurred_at = jst(on, rng.randint(9, 16), rng.choice((0, 15, 30, 45)))
        case = draft.case
        return Consultation(
            case=case,
            company=case.company,
            organisation=case.organisation,
            author=author,
            occurred_at=occurred_at,
            occurred_on=calendar.local_date(occurred_at),
            fiscal_year=calendar.fiscal_year(occurred_at),
            channel=channel,
            duration_minutes=duration,
            summary=summary,
            advice=rng.choice(ADVICE),
            is_confidential=case.is_confidential,
        )
