"""factory_boy factories of clients and cases.

Derived columns (search keys, size class, JST date, fiscal year) are filled
by the same functions the services use, so test rows look like real ones.
"""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm import models
from crm.services.companies import company_derive_keys
from support_network.calendar import fiscal_year, local_date
from support_network.models import Organisation, Prefecture


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Company

    name = factory.Sequence(lambda n: f"株式会社テスト工業{n}")
    name_kana = factory.Sequence(lambda n: f"テストコウギョウ{n}")
    kind = "corporation"
    prefecture = factory.LazyFunction(lambda: Prefecture.objects.get(code="13"))
    industry = "E"
    capital_yen = 10_000_000
    employees = 12

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        company = model_class(*args, **kwargs)
        company_derive_keys(company)
        company.save()
        return company


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Case

    company = factory.SubFactory(CompanyFactory)
    organisation = factory.LazyFunction(
        lambda: Organisation.objects.get(code="inpit-window-13")
    )
    title = factory.Sequence(lambda n: f"特許出願の相談 {n}")
    created_by = factory.SubFactory(UserFactory)


class ConsultationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Consultation

    case = factory.SubFactory(CaseFactory)
    company = factory.SelfAttribute("case.company")
    organisation = factory.SelfAttribute("case.organisation")
    author = factory.SelfAttribute("case.created_by")
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    occurred_on = factory.LazyAttribute(lambda o: local_date(o.occurred_at))
    fiscal_year = factory.LazyAttribute(lambda o: fiscal_year(o.occurred_at))
    channel = "visit"
    duration_minutes = 60
    summary = "出願の進め方について相談"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contact

    company = factory.SubFactory(CompanyFactory)
    organisation = factory.LazyFunction(
        lambda: Organisation.objects.get(code="inpit-window-13")
    )
    name = factory.Sequence(lambda n: f"山田 太郎{n}")


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Consent

    company = factory.SubFactory(CompanyFactory)
    scope = "network"
    obtained_on = factory.LazyFunction(timezone.localdate)
    method = "written"
    recorded_by = factory.SubFactory(UserFactory)
    organisation = factory.LazyFunction(
        lambda: Organisation.objects.get(code="inpit-window-13")
    )


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Referral

    case = factory.SubFactory(CaseFactory)
    from_organisation = factory.SelfAttribute("case.organisation")
    sent_by = factory.SubFactory(UserFactory)
    reason = "専門的な助言が必要"
    status = "sent"
    respond_by = factory.LazyFunction(
        lambda: timezone.localdate() + dt.timedelta(days=3)
    )
