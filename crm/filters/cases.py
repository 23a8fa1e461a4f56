"""Query filters of the cases list, and the one reading of `assignee=` for every list."""

import django_filters
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from crm.choices import (
    CaseStatus,
)
from crm.models import Case


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
