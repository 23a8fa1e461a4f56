"""API views of programs."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from programs.models import Program
from programs.serializers import ProgramSerializer


@extend_schema(tags=["programs"], parameters=[ORGANISATION_HEADER])
class ProgramViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Support programs with their rules as data and their fiscal-year rounds."""

    serializer_class = ProgramSerializer
    pagination_class = keyset_pagination("code")
    lookup_field = "code"

    def get_queryset(self):
        return (
            Program.objects.filter(is_active=True)
            .select_related("operator")
            .prefetch_related("rounds")
            .order_by("code")
        )
