"""Query filters of the network's reference data."""

import django_filters
from django.db.models import Q

from support_network.choices import OrganisationKind
from support_network.models import Organisation


class OrganisationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices)
    prefecture = django_filters.CharFilter(field_name="prefecture_id")
    region = django_filters.CharFilter(field_name="region_id")
    q = django_filters.CharFilter(method="filter_q", label="名称・コード")

    class Meta:
        model = Organisation
        fields = ["kind", "prefecture", "region", "q"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value)
            | Q(short_name__icontains=value)
            | Q(code__icontains=value)
        )
