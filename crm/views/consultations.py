"""API views of consultations: list, detail, record, correct and void (取消)."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin, keyset_pagination
from crm.filters.consultations import ConsultationFilter
from crm.selectors.visibility import (
    cases_visible_to,
    companies_visible_to,
    consultations_visible_to,
)
from crm.serializers.consultations import (
    ConsultationInputSerializer,
    ConsultationSerializer,
    ConsultationUpdateSerializer,
    VoidSerializer,
)
from crm.services.consultations import consultation_create
from crm.services.corrections import consultation_update, consultation_void
from crm.views.common import ERROR_RESPONSES, visible_or_400
from crm.views.common import FORBIDDEN_RECORD_CHANGE as FORBIDDEN


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
        # The serializer names the case, company and author by id only: no
        # need to load their rows (a page of 50 is ~10 ms faster without).
        return (
            consultations_visible_to(self.actor)
            .select_related(None)
            .select_related("organisation")
            .prefetch_related("topics", "ip_types", Prefetch("attendees"))
        )

    @extend_schema(
        summary="相談記録を登録する",
        request=ConsultationInputSerializer,
        responses={201: ConsultationSerializer, **ERROR_RESPONSES},
    )
    def create(self, request, *args, **kwargs):
        serializer = ConsultationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["company"] = visible_or_400(
            companies_visible_to(self.actor),
            data["company"],
            "company",
            _("企業等が見つかりません。"),
        )
        data["case"] = visible_or_400(
            cases_visible_to(self.actor),
            data.pop("case", None),
            "case",
            _("案件が見つかりません。"),
        )
        consultation = consultation_create(actor=self.actor, **data)
        # Serialise what the service wrote: a confidential consultation on a
        # colleague's case is recorded by an author whom rule 4 does not let
        # read it back, and re-reading costs four queries anyway.
        body = ConsultationSerializer(consultation).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="相談記録を訂正する",
        description=(
            "記録した組織（記録者、その組織のコーディネーター・管理者・組織管理者）"
            "だけが訂正できます。統計は同じトランザクションで追従します。"
        ),
        request=ConsultationUpdateSerializer,
        responses={200: ConsultationSerializer, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def partial_update(self, request, *args, **kwargs):
        consultation = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = ConsultationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consultation = consultation_update(
            actor=self.actor, consultation=consultation, **serializer.validated_data
        )
        return Response(ConsultationSerializer(consultation).data)

    @extend_schema(
        summary="相談記録を取り消す（取消）",
        description=(
            "一覧・経過・統計・出力から除かれ、監査ログに取消前の全項目と理由が残ります。"
            "本文の reason（任意）に取消の理由を入れられます。"
        ),
        request=VoidSerializer,
        responses={204: None, **ERROR_RESPONSES, 403: FORBIDDEN},
    )
    def destroy(self, request, *args, **kwargs):
        consultation = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        serializer = VoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consultation_void(
            actor=self.actor, consultation=consultation, **serializer.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
