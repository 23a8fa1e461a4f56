"""Admin of exports: read-only, since Celery builds them (crm/exports/)."""

from django.contrib import admin

from crm import models


@admin.register(models.Export)
class ExportAdmin(admin.ModelAdmin):
    """Exports are built by Celery and read-only here (crm/exports/)."""

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
