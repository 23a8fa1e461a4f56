"""Admin of companies, contacts and consents, and the 法人番号公表サイト import.

Admin writes of companies go through the services so derived keys, size
class and the audit trail stay right; a recorded consent's scope and
company are read-only (withdrawal is consent_withdraw's).

The import: a superuser uploads the CSV or ZIP from the company list ("法人番号公表サイト
のデータを取り込む"); the page calls the same service as
`manage.py import_nta_companies` and shows what it did. The request runs the
import itself, so uploads are capped: national or large prefecture files go
through the command.
"""

from __future__ import annotations

import contextlib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm import models
from crm.services.companies import (
    COMPANY_FIELDS,
    company_create,
    company_update,
    company_validate,
    corporate_number_clean,
)
from crm.services.merge import company_merge
from crm.services.nta_csv import (
    ENCODING_AUTO,
    ENCODING_CP932,
    ENCODING_UTF8,
    encoding_label,
)
from crm.services.nta_import import company_import_nta
from support_network.actors import Actor
from support_network.errors import DomainError

# The import runs inside the request, which gunicorn ends after 30 s. About
# 3,000 rows a second are imported on the 2-core machines, so 50,000 rows
# (a daily national diff, or a small prefecture's full file) stay well
# inside it. The byte cap stops an upload before it is even read: NTA ZIPs
# hold about 45 bytes a row (219 MB for 5 million rows).
MAX_UPLOAD_ROWS = 50_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class NtaImportForm(forms.Form):
    file = forms.FileField(
        label=_("ファイル"),
        help_text=_(
            "法人番号公表サイトからダウンロードした CSV または ZIP"
            "（全件データ・差分データ）。"
        ),
    )
    encoding = forms.ChoiceField(
        label=_("文字コード"),
        choices=[
            (ENCODING_AUTO, _("自動判別")),
            (ENCODING_UTF8, _("Unicode 版（UTF-8）")),
            (ENCODING_CP932, _("Shift_JIS 版")),
        ],
        initial=ENCODING_AUTO,
    )
    dry_run = forms.BooleanField(
        label=_("確認のみ（登録しない）"),
        required=False,
        help_text=_("件数を数えるだけで、企業等は登録・更新しません。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                gettext(
                    "ファイルが大きすぎます（上限 %(max)d MB）。"
                    "manage.py import_nta_companies で取り込んでください。"
                )
                % {"max": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload


@contextlib.contextmanager
def _binary_stream(upload):
    """Yield a seekable binary stream of an uploaded file."""
    if hasattr(upload, "temporary_file_path"):
        with open(upload.temporary_file_path(), "rb") as stream:
            yield stream
    else:
        yield upload.file


class NtaImportAdminMixin:
    """Add the NTA import page and its button to the company admin."""

    change_list_template = "admin/crm/company/change_list.html"

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "import-nta/",
                self.admin_site.admin_view(self.nta_import_view),
                name=f"{opts.app_label}_{opts.model_name}_import_nta",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        if request.user.is_superuser:
            opts = self.model._meta
            extra_context["nta_import_url"] = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_import_nta",
                current_app=self.admin_site.name,
            )
        return super().changelist_view(request, extra_context=extra_context)

    def nta_import_view(self, request):
        # The import rewrites network-wide master data: superusers only,
        # as the service itself enforces.
        if not request.user.is_superuser:
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = NtaImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    with _binary_stream(upload) as stream:
                        result = company_import_nta(
                            actor=Actor(user=request.user),
                            source=stream,
                            filename=upload.name,
                            encoding=form.cleaned_data["encoding"],
                            dry_run=form.cleaned_data["dry_run"],
                            max_rows=MAX_UPLOAD_ROWS,
                        )
                except DomainError as exc:
                    form.add_error(None, exc.detail)
        else:
            form = NtaImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("法人番号公表サイトのデータを取り込む"),
            "form": form,
            "result": result,
            "encoding": encoding_label(result.encoding) if result else "",
            "max_rows": f"{MAX_UPLOAD_ROWS:,}",
            "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        }
        return TemplateResponse(request, "admin/crm/company/nta_import.html", context)


class CompanyAdminForm(forms.ModelForm):
    """Validate with the same rules as the API before the service saves."""

    class Meta:
        model = models.Company
        fields = [
            *COMPANY_FIELDS,
            "registered_by",
        ]

    def clean(self):
        cleaned = super().clean()
        try:
            number = corporate_number_clean(cleaned.get("corporate_number"))
            duplicate = models.Company.objects.filter(corporate_number=number)
            if number and duplicate.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "corporate_number", "この法人番号の企業等は既に登録されています。"
                )
            probe = models.Company(
                **{k: v for k, v in cleaned.items() if k in COMPANY_FIELDS}
            )
            company_validate(probe, today=timezone.localdate())
        except DomainError as exc:
            self.add_error(exc.field, exc.detail)
        return cleaned


@admin.register(models.Company)
class CompanyAdmin(NtaImportAdminMixin, admin.ModelAdmin):
    form = CompanyAdminForm
    list_display = [
        "id",
        "name",
        "corporate_number",
        "kind",
        "prefecture",
        "size_class",
        "registered_by",
    ]
    list_filter = ["kind", "size_class", "prefecture"]
    search_fields = ["name", "name_kana", "name_norm", "corporate_number"]
    readonly_fields = ["name_norm", "name_key", "kana_key", "size_class", "merged_into"]
    autocomplete_fields = ["registered_by"]
    list_select_related = ["prefecture", "registered_by"]
    actions = ["merge_duplicates"]

    @admin.action(description="選択した2件を統合する（法人番号のある方・古い方に残す）")
    def merge_duplicates(self, request, queryset):
        """Merge two duplicates: the one with a 法人番号 (else the older) stays."""
        companies = list(queryset.order_by("id")[:3])
        if len(companies) != 2:
            self.message_user(
                request, "統合する企業等をちょうど2件選んでください。", messages.ERROR
            )
            return
        first, second = companies
        target, source = (
            (second, first)
            if second.corporate_number and not first.corporate_number
            else (first, second)
        )
        try:
            company_merge(
                actor=Actor(user=request.user), source=source, target=target
            )
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
        else:
            self.message_user(
                request,
                f"「{source.name}」（ID {source.pk}）を「{target.name}」"
                f"（ID {target.pk}）に統合しました。",
                messages.SUCCESS,
            )

    def save_model(self, request, obj, form, change):
        actor = Actor(user=request.user)
        fields = {
            name: form.cleaned_data[name]
            for name in COMPANY_FIELDS
            if name in form.cleaned_data
        }
        if change:
            company_update(actor=actor, company=obj, **fields)
        else:
            obj.pk = company_create(actor=actor, **fields).pk


@admin.register(models.Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "organisation", "email"]
    search_fields = ["name", "company__name"]
    autocomplete_fields = ["company", "organisation"]


@admin.register(models.Consent)
class ConsentAdmin(admin.ModelAdmin):
    list_display = [
        "company",
        "scope",
        "obtained_on",
        "method",
        "organisation",
        "withdrawn_at",
    ]
    list_filter = ["scope", "method"]
    search_fields = ["company__name", "company__corporate_number"]
    autocomplete_fields = [
        "company",
        "organisation",
        "contact",
        "recorded_by",
        "withdrawn_by",
    ]
    filter_horizontal = ["organisations"]

    def get_readonly_fields(self, request, obj=None):
        # Withdrawal goes through consent_withdraw (audited, hubs lose sight);
        # a recorded consent's scope and company are what provisions relied on.
        if obj is None:
            return ["withdrawn_at", "withdrawn_by"]
        return [
            "company",
            "scope",
            "organisations",
            "organisation",
            "recorded_by",
            "withdrawn_at",
            "withdrawn_by",
        ]
