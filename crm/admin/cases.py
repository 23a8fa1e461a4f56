"""Admin of cases and their records: consultations, follow-ups, outcomes.

A consultation's JST date and fiscal year follow its time as the service
sets them, and saving one refreshes the company's first-consultation marks
and statistics facts; a follow-up's completion is follow_up_complete's, so
its status is read-only here.
"""

from django.contrib import admin

from crm import models
from crm.services.consultations import company_first_consultation_refresh
from support_network.calendar import fiscal_year, local_date


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
