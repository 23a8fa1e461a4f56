"""Admin of notifications: the in-app messages, for support look-ups."""

from django.contrib import admin

from crm import models


@admin.register(models.Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "read_at", "emailed_at"]
    list_filter = ["kind"]
    autocomplete_fields = ["recipient"]
