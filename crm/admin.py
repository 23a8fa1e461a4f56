"""Admin of clients and cases, in Japanese.

Admin writes of companies go through the services so derived keys, size
class and the audit trail stay right.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from crm import models, services
from crm.admin_nta import NtaImportAdminMixin
from crm.services.consultations import company_first_consultation_refresh
from crm.services.facts import yorozu_link_marks_refresh
from support_network.actors import Actor
from support_network.calendar import fiscal_year, local_date
from support_network.errors import DomainError


class CompanyAdminForm(forms.ModelForm):
    """Validate with the same rules as the API before the service saves."""

    class Meta:
        model = models.Company
        fields = [
            *services.COMPANY_FIELDS,
            "registered_by",
        ]

    def clean(self):
        cleaned = super().clean()
        try:
            number = services.corporate_number_clean(cleaned.get("corporate_number"))
            duplicate = models.Company.objects.filter(corporate_number=number)
            if number and duplicate.exclude(pk=self.instance.pk).exists():
                self.add_error(
                    "corporate_number", "この法人番号の企業等は既に登録されています。"
                )
            probe = models.Company(
                **{k: v for k, v in cleaned.items() if k in services.COMPANY_FIELDS}
            )
            services.company_validate(probe, today=timezone.localdate())
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
            services.company_merge(
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
            for name in services.COMPANY_FIELDS
            if name in form.cleaned_data
        }
        if change:
            services.company_update(actor=actor, company=obj, **fields)
        else:
            obj.pk = services.company_create(actor=actor, **fields).pk


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


class ConsultationTopicInline(admin.TabularInline):
    model = models.ConsultationTopic
    extra = 0


class ConsultationIpTypeInline(admin.TabularInline):
    model = models.ConsultationIpType
    extra = 0


@admin.register(models.Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "company",
        "organisation",
        "status",
        "is_confidential",
        "assignee",
        "opened_on",
    ]
    list_filter = ["status", "is_confidential"]
    search_fields = ["title", "company__name"]
    autocomplete_fields = ["company", "organisation", "assignee", "created_by"]
    list_select_related = ["company", "organisation", "assignee"]


@admin.register(models.Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "occurred_at",
        "company",
        "organisation",
        "channel",
        "duration_minutes",
        "fiscal_year",
    ]
    list_filter = ["channel", "fiscal_year"]
    search_fields = ["company__name", "summary"]
    autocomplete_fields = ["case", "company", "organisation", "author"]
    readonly_fields = ["occurred_on", "fiscal_year"]
    filter_horizontal = ["attendees"]
    inlines = [ConsultationTopicInline, ConsultationIpTypeInline]
    list_select_related = ["company", "organisation"]

    def save_model(self, request, obj, form, change):
        # The JST date and fiscal year follow the time, as the service sets them.
        obj.occurred_on = local_date(obj.occurred_at)
        obj.fiscal_year = fiscal_year(obj.occurred_at)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # First-consultation marks of the company (and of the one it left),
        # and the statistics facts of their consultations, this one included.
        companies = {form.instance.company_id, form.initial.get("company")}
        company_first_consultation_refresh(company_ids=[c for c in companies if c])


class ReferralTopicInline(admin.TabularInline):
    model = models.ReferralTopic
    extra = 0


@admin.register(models.Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "case",
        "from_organisation",
        "to_organisation",
        "status",
        "sent_at",
        "respond_by",
    ]
    list_filter = ["status"]
    search_fields = ["case__title", "case__company__name"]
    autocomplete_fields = [
        "case",
        "from_organisation",
        "to_organisation",
        "sent_by",
        "answered_by",
        "closed_by",
        "consent",
    ]
    inlines = [ReferralTopicInline]
    # The life cycle moves only through the services (consent check, APPI
    # provision record, transitions, notifications): the admin corrects the
    # free text of a referral, nothing of its state (DESIGN.md "Who may
    # change what").
    readonly_fields = [
        "case",
        "from_organisation",
        "to_organisation",
        "sent_by",
        "status",
        "consent",
        "sent_at",
        "respond_by",
        "answered_at",
        "answered_by",
        "assignee",
        "completed_at",
        "closed_at",
        "closed_by",
        "reminded_at",
        "escalated_at",
    ]

    def has_add_permission(self, request):
        return False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # A referral's case, organisations or status decide whether the
        # case's consultations are よろず連携 (statistics facts).
        cases = {form.instance.case_id, form.initial.get("case")}
        yorozu_link_marks_refresh(case_ids=[c for c in cases if c])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        yorozu_link_marks_refresh(case_ids=[obj.case_id])

    def delete_queryset(self, request, queryset):
        case_ids = set(queryset.values_list("case_id", flat=True))
        super().delete_queryset(request, queryset)
        yorozu_link_marks_refresh(case_ids=case_ids)


@admin.register(models.ProvisionRecord)
class ProvisionRecordAdmin(admin.ModelAdmin):
    list_display = ["provided_on", "provider", "recipient", "company"]
    autocomplete_fields = ["referral", "provider", "recipient", "company", "consent"]
    filter_horizontal = ["contacts"]

    # APPI art. 29 records are kept as written: no one adds, edits or deletes them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "due_on",
        "case",
        "assignee",
        "status",
        "reminded_count",
        "escalated_at",
    ]
    list_filter = ["status"]
    autocomplete_fields = ["case", "consultation", "organisation", "assignee"]
    # Completion goes through follow_up_complete (who completed it, audited).
    readonly_fields = ["status", "done_at", "done_by", "reminded_count", "escalated_at"]


@admin.register(models.Outcome)
class OutcomeAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "occurred_on",
        "company",
        "organisation",
        "reference",
        "amount_yen",
    ]
    list_filter = ["kind"]
    autocomplete_fields = ["case", "company", "organisation", "recorded_by"]


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "read_at", "emailed_at"]
    list_filter = ["kind"]
    autocomplete_fields = ["recipient"]


@admin.register(models.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "organisation", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["object_id", "actor__username"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(models.Export)
class ExportAdmin(admin.ModelAdmin):
    """Exports are built by Celery and read-only here (crm/services/exports.py)."""

    list_display = [
        "id",
        "created_at",
        "requested_by",
        "organisation",
        "kind",
        "fiscal_year",
        "format",
        "status",
        "progress",
        "row_count",
        "expires_at",
    ]
    list_filter = ["kind", "format", "status"]
    search_fields = ["requested_by__username", "organisation__code"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
