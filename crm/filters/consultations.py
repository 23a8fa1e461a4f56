"""Query filters of the consultations list, applied to the visibility selector."""

import django_filters

from crm.choices import (
    Channel,
    Topic,
)
from crm.models import Consultation


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
