"""Admin of the network, in Japanese."""

from django.contrib import admin

from support_network.models import (
    ExpertiseTag,
    Membership,
    Organisation,
    Prefecture,
    Region,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "short_name", "sort_order"]


@admin.register(Prefecture)
class PrefectureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "jpaa_branch"]
    list_filter = ["region"]
    search_fields = ["code", "name", "name_en"]


@admin.register(ExpertiseTag)
class ExpertiseTagAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]
    search_fields = ["slug", "name"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    filter_horizontal = ["expertise"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "prefecture",
        "region",
        "is_network_member",
        "capacity",
        "is_active",
    ]
    list_filter = ["kind", "region", "is_network_member", "is_active"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent"]
    filter_horizontal = ["expertise"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "is_active", "capacity"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__username", "organisation__code", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    filter_horizontal = ["expertise"]
