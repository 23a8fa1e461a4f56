"""Admin of referrals and the APPI provision records they leave.

A referral's life cycle moves only through the services: the admin corrects
its free text, refreshes the よろず連携 marks its case depends on, and adds
none. Provision records (APPI art. 29) are kept as written.
"""

from django.contrib import admin

from crm import models
from crm.statistics.facts import yorozu_link_marks_refresh


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
