"""factory_boy factories of program rounds, enrolments, plans and support days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from crm import models as crm_models
from programs import models
from support_network.calendar import fiscal_year
from support_network.models import Organisation
from tests.crm.factories import CaseFactory, CompanyFactory, UserFactory

# A fiscal year no seeded round uses, so each test sets its own capacity.
TEST_FY = 2030


def program(code: str) -> models.Program:
    return models.Program.objects.get(code=code)


class ProgramRoundFactory(factory.django.DjangoModelFactory):
    """A round of a seeded program; the capacity of an existing one is reset."""

    class Meta:
        model = models.ProgramRound

    program = factory.LazyFunction(lambda: program("ipas"))
    fiscal_year = TEST_FY
    capacity = 20

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        round_, _created = model_class.objects.update_or_create(
            program=kwargs.pop("program"),
            fiscal_year=kwargs.pop("fiscal_year"),
            defaults=kwargs,
        )
        return round_


class EnrolmentFactory(factory.django.DjangoModelFactory):
    """An enrolment of a company registered by INPIT 東京都窓口 (org A)."""

    class Meta:
        model = models.Enrolment

    round = factory.SubFactory(ProgramRoundFactory)
    program = factory.SelfAttribute("round.program")
    company = factory.SubFactory(
        CompanyFactory,
        registered_by=factory.LazyFunction(
            lambda: Organisation.objects.get(code="inpit-window-13")
        ),
    )
    organisation = factory.LazyFunction(
        lambda: Organisation.objects.get(code="inpit-window-13")
    )
    applied_by = factory.SubFactory(UserFactory)
    status = "applied"


class SupportPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.SupportPlan

    enrolment = factory.SubFactory(EnrolmentFactory)
    period = factory.SelfAttribute("enrolment.period")
    goals = "有望シーズ3件の出口戦略を策定する"


class SupportDayFactory(factory.django.DjangoModelFactory):
    """A logged support day; add its days to enrolment.days_used yourself."""

    class Meta:
        model = models.SupportDay

    enrolment = factory.SubFactory(EnrolmentFactory)
    date = dt.date(2026, 6, 1)
    fiscal_year = factory.LazyAttribute(lambda o: fiscal_year(o.date))
    period = factory.SelfAttribute("enrolment.period")
    days = Decimal("1.0")
    logged_by = factory.SubFactory(UserFactory)


class SubsidyOutcomeFactory(factory.django.DjangoModelFactory):
    """A subsidy granted to a company (crm outcome, reference = program code)."""

    class Meta:
        model = crm_models.Outcome

    case = factory.SubFactory(CaseFactory)
    company = factory.SelfAttribute("case.company")
    organisation = factory.SelfAttribute("case.organisation")
    kind = "subsidy"
    occurred_on = factory.LazyFunction(timezone.localdate)
    reference = "overseas_filing"
    amount_yen = 1_000_000
    recorded_by = factory.SelfAttribute("case.created_by")
