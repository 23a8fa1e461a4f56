"""Query filters of the surveys list, applied to the visibility selector."""

import django_filters

from crm.models import Survey
from crm.selectors.surveys import survey_status_q

STATUSES = [
    ("scheduled", "送信予定"),
    ("sent", "送信済み（回答待ち）"),
    ("answered", "回答済み"),
    ("expired", "期限切れ"),
    ("skipped", "送信せず"),
]


class SurveyFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(field_name="fiscal_year")
    status = django_filters.ChoiceFilter(choices=STATUSES, method="filter_status")

    class Meta:
        model = Survey
        fields = ["fiscal_year", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(survey_status_q(value))
