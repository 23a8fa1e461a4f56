"""API views of companies and their contacts and consents."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import ORGANISATION_HEADER, ActorMixin
from crm.filters.companies import CompanyFilter
from crm.models import Company
from crm.selectors.visibility import (
    companies_visible_to,
    consents_visible_to,
    contacts_visible_to,
)
from crm.serializers.companies import (
    CompanyInputSerializer,
    CompanyMergeInputSerializer,
    CompanySerializer,
    ConsentInputSerializer,
    ConsentSerializer,
    ContactInputSerializer,
    ContactSerializer,
)
from crm.serializers.personal_data import EraseInputSerializer, EraseSerializer
from crm.services.companies import company_create, company_update
from crm.services.consents import consent_record, consent_withdraw
from crm.services.contacts import contact_create, contact_delete, contact_update
from crm.services.merge import company_merge
from crm.services.personal_requests import contact_disclosure_request, contact_erase
from crm.views.common import ERROR_RESPONSES, visible_or_400
from crm.views.exports import ExportSerializer
from crm.views.pagination import CompanySearchPagination


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
    pagination_class = CompanySearchPagination
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return companies_visible_to(self.actor)

    def create(self, request, *args, **kwargs):
        serializer = CompanyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        company = company_create(actor=self.actor, **serializer.validated_data)
        company = self.get_queryset().get(pk=company.pk)
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        company = self.get_object()
        serializer = CompanyInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        company_update(
            actor=self.actor,
            company=company,
            **serializer.validated_data,
        )
        return Response(CompanySerializer(self.get_queryset().get(pk=company.pk)).data)

    @extend_schema(
        summary="第三者提供の同意を記録する／一覧",
        request=ConsentInputSerializer,
        responses={
            200: ConsentSerializer(many=True),
            201: ConsentSerializer,
            **ERROR_RESPONSES,
        },
    )
    @action(
        detail=True, methods=["get", "post"], url_path="consents", pagination_class=None
    )
    def consents(self, request, pk=None):
        company = self.get_object()
        if request.method == "GET":
            consents = (
                consents_visible_to(self.actor)
                .filter(company=company)
                .prefetch_related("organisations")
                .order_by("-obtained_on", "-id")
            )
            return Response(ConsentSerializer(consents, many=True).data)
        serializer = ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["contact"] = visible_or_400(
            contacts_visible_to(self.actor).filter(company=company),
            data.pop("contact", None),
            "contact",
            _("担当者が見つかりません。"),
        )
        consent = consent_record(actor=self.actor, company=company, **data)
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="同意を撤回する",
        request=None,
        responses={200: ConsentSerializer, **ERROR_RESPONSES},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"consents/(?P<cid>[0-9]{1,18})/withdraw",
    )
    def withdraw_consent(self, request, pk=None, cid=None):
        company = self.get_object()
        consent = get_object_or_404(
            consents_visible_to(self.actor).filter(company=company), pk=cid
        )
        consent = consent_withdraw(actor=self.actor, consent=consent)
        return Response(ConsentSerializer(consent).data)

    @extend_schema(
        summary="担当者の一覧／登録",
        description=(
            "GET: この企業等の担当者のうち、自組織が登録したもの、"
            "または閲覧できる案件のある企業等のもの。"
            "POST: 自組織が登録する担当者を追加する。"
        ),
        request=ContactInputSerializer,
        responses={
            200: ContactSerializer(many=True),
            201: ContactSerializer,
            **ERROR_RESPONSES,
            409: OpenApiResponse(description="company_merged: 統合済みの企業等"),
        },
    )
    @action(
        detail=True, methods=["get", "post"], url_path="contacts", pagination_class=None
    )
    def contacts(self, request, pk=None):
        company = self.get_object()
        if request.method == "GET":
            contacts = (
                contacts_visible_to(self.actor)
                .filter(company=company)
                .order_by("id")
            )
            return Response(ContactSerializer(contacts, many=True).data)
        serializer = ContactInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = contact_create(
            actor=self.actor, company=company, **serializer.validated_data
        )
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="重複した企業等を統合する",
        description=(
            "この企業等（統合元）の案件・相談記録・担当者・同意・成果・事業への参加などを"
            "統合先へ移し、統合先の空欄を統合元の値で補います。統合元は以後、検索にも"
            "詳細（404）にも現れません。組織管理者・コーディネーター・システム管理者のみ。"
        ),
        request=CompanyMergeInputSerializer,
        responses={
            200: CompanySerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="統合する権限がない"),
            409: OpenApiResponse(
                description=(
                    "different_corporate_numbers: 法人番号が異なる／"
                    "already_merged, target_already_merged: 統合済み（merged_into に ID）"
                )
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        source = self.get_object()
        serializer = CompanyMergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Company master data is shared by the whole network (DESIGN.md
        # "Who sees what" rule 2), so any company may be the target; merged
        # ones are included so the service can answer 409 with the company
        # they were merged into.
        target = visible_or_400(
            Company.objects.all(),
            serializer.validated_data["into"],
            "into",
            _("統合先の企業等が見つかりません。"),
        )
        target = company_merge(actor=self.actor, source=source, target=target)
        return Response(CompanySerializer(self.get_queryset().get(pk=target.pk)).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary="担当者の詳細", responses={200: ContactSerializer, **ERROR_RESPONSES}
    ),
    partial_update=extend_schema(
        summary="担当者の情報を変更する",
        request=ContactInputSerializer(partial=True),
        responses={
            200: ContactSerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="登録した組織以外は変更できない"),
        },
    ),
    destroy=extend_schema(
        summary="担当者を削除する",
        description=(
            "登録した組織だけが削除できます。同意や第三者提供記録に記録された担当者は"
            "削除できません（409 contact_in_use）。削除前の値は監査ログに残ります。"
        ),
        responses={
            204: None,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="登録した組織以外は削除できない"),
            409: OpenApiResponse(
                description="contact_in_use: 同意・第三者提供記録が参照している"
            ),
        },
    ),
)
@extend_schema(tags=["contacts"], parameters=[ORGANISATION_HEADER])
class ContactViewSet(
    ActorMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Contacts (担当者) the caller may see: its own, or of companies it works with."""

    serializer_class = ContactSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return contacts_visible_to(self.actor)

    def partial_update(self, request, *args, **kwargs):
        contact = self.get_object()
        serializer = ContactInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        contact = contact_update(
            actor=self.actor, contact=contact, **serializer.validated_data
        )
        return Response(ContactSerializer(contact).data)

    def destroy(self, request, *args, **kwargs):
        contact_delete(actor=self.actor, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="開示請求への対応（データを書き出す）",
        description=(
            "本人（担当者）について保有する個人データと、その第三者提供記録"
            "（提供・受領の両方）を ZIP（JSON と CSV）に書き出すエクスポートを作成します"
            "（202、exports/{id}/ で進捗）。組織管理者が行います。"
        ),
        request=None,
        responses={
            202: ExportSerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="not_permitted: 組織管理者のみ"),
        },
    )
    @action(detail=True, methods=["post"])
    def disclosure(self, request, pk=None):
        contact = self.get_object()
        export = contact_disclosure_request(actor=self.actor, contact=contact)
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="利用停止・消去",
        description=(
            "本人の求めにより、氏名・フリガナ・メールアドレス・電話番号と、"
            "記録中の本人に関する記載を消去し（記号に置き換え）、本人の同意を終了します。"
            "統計の数値は変わりません。第三者提供記録は3年間保存されます。"
            "担当者を登録した組織の組織管理者が行います。"
        ),
        request=EraseInputSerializer,
        responses={
            200: EraseSerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(description="not_permitted: 登録組織の組織管理者のみ"),
        },
    )
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        contact = self.get_object()
        serializer = EraseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counts = contact_erase(
            actor=self.actor,
            contact=contact,
            reason=serializer.validated_data.get("reason", ""),
        )
        return Response({"id": contact.pk, "erased": True, "counts": counts})

