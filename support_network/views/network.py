"""API views of the network's reference data (public to every member)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from config.api import (
    ORGANISATION_HEADER,
    ActorMixin,
    keyset_pagination,
)
from support_network.filters import OrganisationFilter
from support_network.models import Organisation, Prefecture
from support_network.serializers import OrganisationSerializer, PrefectureSerializer


@extend_schema(tags=["network"], parameters=[ORGANISATION_HEADER])
class PrefectureViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The 47 prefectures with their bureau region and 弁理士会 地域会."""

    serializer_class = PrefectureSerializer
    queryset = Prefecture.objects.select_related("region", "jpaa_branch").order_by(
        "code"
    )
    pagination_class = keyset_pagination("code")
    lookup_field = "code"


@extend_schema(tags=["network"], parameters=[ORGANISATION_HEADER])
class OrganisationViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Organisations of the network."""

    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    lookup_field = "code"

    def get_queryset(self):
        return (
            Organisation.objects.filter(is_active=True)
            .select_related("prefecture", "region", "parent")
            .prefetch_related("expertise")
            .order_by("code")
        )

    pagination_class = keyset_pagination("code")
