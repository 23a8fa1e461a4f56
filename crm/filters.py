"""Query filters of clients and cases, applied to the visibility selectors."""

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from crm.choices import (
    CaseStatus,
    Channel,
    FollowUpStatus,
    OutcomeKind,
    ReferralStatus,
    SizeClass,
    Topic,
)
from crm.models import Case, Company, Consultation, FollowUp, Outcome, Referral
from crm.selectors.companies import company_search


class CompanyFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="名称・フリガナ・法人番号")
    corporate_number = django_filters.CharFilter(field_name="corporate_number")
    prefecture = django_filters.CharFilter(field_name="prefecture_id")
    size_class = django_filters.ChoiceFilter(
        choices=SizeClass.choices, method="filter_size_class"
    )

    class Meta:
        model = Company
        fields = ["q", "corporate_number", "prefecture", "size_class"]

    def filter_q(self, queryset, name, value):
        return company_search(queryset, value)

    def filter_size_class(self, queryset, name, value):
        # size_class is derived from non-public data: filter only the rows
        # whose private data the caller may see.
        return queryset.filter(size_class=value, has_private_access=True)


def filter_by_assignee(queryset, value: str, user):
    """Filter on `assignee`: `me` or a user id; anything else is a 400.

    One reading of `assignee=` for every list that takes it.
    """
    if value == "me":
        return queryset.filter(assignee_id=user.pk)
    if value.isascii() and value.isdigit() and len(value) <= 12:
        return queryset.filter(assignee_id=int(value))
    raise ValidationError({"assignee": [_("me またはユーザーIDを指定してください。")]})


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=CaseStatus.choices)
    company = django_filters.NumberFilter(field_name="company_id")
    organisation = django_filters.CharFilter(field_name="organisation__code")
    assignee = django_filters.CharFilter(
        method="filter_assignee", label="me = 自分の担当 / ユーザーID"
    )

    class Meta:
        model = Case
        fields = ["status", "company", "organisation", "assignee"]

    def filter_assignee(self, queryset, name, value):
        return filter_by_assignee(queryset, value, self.request.user)


class ConsultationFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(field_name="fiscal_year")
    organisation = django_filters.CharFilter(field_name="organisation__code")
    prefecture = django_filters.CharFilter(field_name="organisation__prefecture_id")
    topic = django_filters.ChoiceFilter(choices=Topic.choices, method="filter_topic")
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    company = django_filters.NumberFilter(field_name="company_id")
    case = django_filters.NumberFilter(field_name="case_id")

    class Meta:
        model = Consultation
        fields = [
            "fiscal_year",
            "organisation",
            "prefecture",
            "topic",
            "channel",
            "company",
            "case",
        ]

    def filter_topic(self, queryset, name, value):
        return queryset.filter(topics__topic=value)


class FollowUpFilter(django_filters.FilterSet):
    assignee = django_filters.ChoiceFilter(
        choices=[("me", "me")], method="filter_assignee", label="me = 自分の担当"
    )
    status = django_filters.ChoiceFilter(choices=FollowUpStatus.choices)
    due_before = django_filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = FollowUp
        fields = ["assignee", "status", "due_before"]

    def filter_assignee(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user)


class OutcomeFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    company = django_filters.NumberFilter(field_name="company_id")
    kind = django_filters.ChoiceFilter(choices=OutcomeKind.choices)

    class Meta:
        model = Outcome
        fields = ["case", "company", "kind"]


# --- Referrals (issue 4) -----------------------------------------------------


class ReferralFilter(django_filters.FilterSet):
    """GET referrals/?direction=in|out&status= (API.md).

    `direction` filters on the annotation the view adds (in: addressed to
    the acting organisation, out: sent by it), so it never widens what the
    visibility selector returned.
    """

    direction = django_filters.ChoiceFilter(
        choices=[("in", "in"), ("out", "out")],
        method="filter_direction",
        label="in = 自組織宛て / out = 自組織から",
    )
    status = django_filters.MultipleChoiceFilter(choices=ReferralStatus.choices)
    case = django_filters.NumberFilter(field_name="case_id")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label="回答期限を過ぎた回答待ち"
    )
    escalated = django_filters.BooleanFilter(
        field_name="escalated_at", lookup_expr="isnull", exclude=True
    )
    assignee = django_filters.CharFilter(
        method="filter_assignee",
        label="me = 自分の担当 / ユーザーID（紹介先の担当者）",
    )

    class Meta:
        model = Referral
        fields = ["direction", "status", "case", "overdue", "escalated", "assignee"]

    def filter_assignee(self, queryset, name, value):
        return filter_by_assignee(queryset, value, self.request.user)

    def filter_direction(self, queryset, name, value):
        return queryset.filter(direction=value)

    def filter_overdue(self, queryset, name, value):
        overdue = Referral.overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
