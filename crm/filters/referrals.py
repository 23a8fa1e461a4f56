"""Query filters of the referrals list, applied to the visibility selector."""

import django_filters
from django.utils import timezone

from crm.choices import (
    ReferralStatus,
)
from crm.filters.cases import filter_by_assignee
from crm.models import Referral


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
