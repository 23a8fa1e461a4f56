"""Query filters of the companies list, applied to the visibility selector."""

import django_filters

from crm.choices import (
    SizeClass,
)
from crm.models import Company
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
