"""Query filters of the outcomes list, applied to the visibility selector."""

import django_filters

from crm.choices import (
    OutcomeKind,
)
from crm.models import Outcome


class OutcomeFilter(django_filters.FilterSet):
    case = django_filters.NumberFilter(field_name="case_id")
    company = django_filters.NumberFilter(field_name="company_id")
    kind = django_filters.ChoiceFilter(choices=OutcomeKind.choices)

    class Meta:
        model = Outcome
        fields = ["case", "company", "kind"]
