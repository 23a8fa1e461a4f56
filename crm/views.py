"""API views of clients and cases: thin adapters over selectors and services."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm import selectors, services
from crm.filters import CaseFilter, CompanyFilter, ConsultationFilter
from crm.serializers import (
    CaseDetailSerializer,
    CaseSerializer,
    CompanyInputSerializer,
    CompanySerializer,
    ConsultationSerializer,
)

ERROR_RESPONSES = {
    400: OpenApiResponse(description='入力エラー {"<field>": ["message"]}'),
    404: OpenApiResponse(description="見つからない（閲覧できない）"),
}


@extend_schema_view(
    list=extend_schema(summary="企業等を検索する"),
    retrieve=extend_schema(
        summary="企業等の詳細", responses={200: CompanySerializer, **ERROR_RESPONSES}
    ),
    create=extend_schema(
        summary="企業等を登録する",
        request=CompanyInputSerializer,
        responses={
            201: CompanySerializer,
            **ERROR_RESPONSES,
            409: OpenApiResponse(
                description="duplicate_company: 同じ法人番号が登録済み（existing に ID）"
            ),
        },
    ),
    partial_update=extend_schema(
        summary="企業等の情報を変更する",
        request=CompanyInputSerializer(partial=True),
        responses={200: CompanySerializer, **ERROR_RESPONSES, 403: OpenApiResponse()},
    ),
)
@extend_schema(tags=["companies"], parameters=[ORGANISATION_HEADER])
class CompanyViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Companies: shared master data, private fields only where the rules allow."""

    serializer_class = CompanySerializer
    filterset_class = CompanyFilter
    pagination_class = keyset_pagination("-id")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.companies_visible_to(self.actor)

    def create(self, request, *args, **kwargs):
        serializer = CompanyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = services.company_create(actor=self.actor, **serializer.validated_data)
        company = self.get_queryset().get(pk=company.pk)
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        company = self.get_object()
        serializer = CompanyInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        services.company_update(
            actor=self.actor,
            company=company,
            has_private_access=company.has_private_access,
            **serializer.validated_data,
        )
        return Response(CompanySerializer(self.get_queryset().get(pk=company.pk)).data)


@extend_schema(tags=["cases"], parameters=[ORGANISATION_HEADER])
class CaseViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Cases the caller may see; the detail holds the timeline."""

    filterset_class = CaseFilter
    pagination_class = keyset_pagination("-opened_on", "-id")

    def get_queryset(self):
        return selectors.cases_visible_to(self.actor)

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @extend_schema(responses={200: CaseDetailSerializer, **ERROR_RESPONSES})
    def retrieve(self, request, *args, **kwargs):
        case = get_object_or_404(
            self.get_queryset().prefetch_related(
                "referrals__from_organisation",
                "referrals__to_organisation",
                "follow_ups",
                "outcomes",
            ),
            pk=kwargs["pk"],
        )
        consultations = (
            selectors.consultations_visible_to(self.actor)
            .filter(case=case)
            .prefetch_related("topics", "ip_types", "attendees")
            .order_by("-occurred_at", "-id")
        )
        services.audit_record(actor=self.actor, action="case.view", obj=case)
        context = {
            **self.get_serializer_context(),
            "visible_consultations": consultations,
        }
        return Response(CaseDetailSerializer(case, context=context).data)


@extend_schema(tags=["consultations"], parameters=[ORGANISATION_HEADER])
class ConsultationViewSet(
    ActorMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Consultation records (相談記録) the caller may see, newest first."""

    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilter
    pagination_class = keyset_pagination("-occurred_at", "-id")

    def get_queryset(self):
        return selectors.consultations_visible_to(self.actor).prefetch_related(
            "topics", "ip_types", Prefetch("attendees")
        )
