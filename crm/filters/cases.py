"""Query filters of the case, consultation, follow-up and outcome lists, and the one reading of `assignee=`."""

import django_filters
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from crm.choices import (
    CaseStatus,
    Channel,
    FollowUpStatus,
    OutcomeKind,
    Topic,
)
from crm.models import Case, Consultation, FollowUp, Outcome


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
