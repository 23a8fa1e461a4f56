"""Admin of the audit trail: read-only, nobody adds, edits or deletes an event."""

from django.contrib import admin

from crm import models


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
