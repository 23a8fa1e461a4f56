"""Admin of programs, in Japanese: an administrator opens a new round here."""

from django.contrib import admin

from programs import models


class ProgramRoundInline(admin.TabularInline):
    model = models.ProgramRound
    extra = 1


@admin.register(models.Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "operator", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["operator"]
    inlines = [ProgramRoundInline]


@admin.register(models.ProgramRound)
class ProgramRoundAdmin(admin.ModelAdmin):
    list_display = ["program", "fiscal_year", "capacity", "opens_on", "closes_on"]
    list_filter = ["program", "fiscal_year"]


class TeamMemberInline(admin.TabularInline):
    model = models.TeamMember
    extra = 0
    autocomplete_fields = ["membership"]


class SupportPlanInline(admin.StackedInline):
    model = models.SupportPlan
    extra = 0


@admin.register(models.Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "program",
        "company",
        "round",
        "scheme",
        "status",
        "started_on",
        "ends_on",
        "days_used",
    ]
    list_filter = ["program", "status"]
    autocomplete_fields = ["company", "case", "organisation", "applied_by"]
    inlines = [TeamMemberInline, SupportPlanInline]


@admin.register(models.SupportDay)
class SupportDayAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "date", "days", "fiscal_year", "logged_by"]
    readonly_fields = ["fiscal_year"]
