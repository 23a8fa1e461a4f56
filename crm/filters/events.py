"""Query filters of the events list, applied to the visibility selector."""

import django_filters
from django.db.models import Exists, OuterRef, Q

from crm.choices import EventKind
from crm.models import Event


class EventFilter(django_filters.FilterSet):
    fiscal_year = django_filters.NumberFilter(field_name="fiscal_year")
    organisation = django_filters.CharFilter(
        method="filter_organisation", help_text="主催または共催組織のコード"
    )
    kind = django_filters.ChoiceFilter(choices=EventKind.choices)

    class Meta:
        model = Event
        fields = ["fiscal_year", "organisation", "kind"]

    def filter_organisation(self, queryset, name, value):
        cohosted = Exists(
            Event.cohosts.through.objects.filter(
                event_id=OuterRef("pk"), organisation__code=value
            )
        )
        return queryset.filter(Q(organisation__code=value) | Q(cohosted))
