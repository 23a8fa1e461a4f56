"""Query filters of the follow-ups list, applied to the visibility selector."""

import django_filters

from crm.choices import (
    FollowUpStatus,
)
from crm.models import FollowUp


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
