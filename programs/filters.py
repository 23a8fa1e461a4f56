"""Query filters of enrolments, applied to the visibility selector."""

import django_filters

from programs.choices import EnrolmentStatus
from programs.models import Enrolment


class EnrolmentFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(field_name="program__code", label="事業コード")
    fiscal_year = django_filters.NumberFilter(
        field_name="round__fiscal_year", label="年度"
    )
    status = django_filters.ChoiceFilter(choices=EnrolmentStatus.choices)
    company = django_filters.NumberFilter(field_name="company_id", label="企業等ID")

    class Meta:
        model = Enrolment
        fields = ["program", "fiscal_year", "status", "company"]
