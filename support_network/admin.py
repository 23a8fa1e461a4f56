"""Admin of the network, in Japanese."""

import json

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from support_network.errors import DomainError
from support_network.models import (
    ExpertiseTag,
    IdentityProvider,
    IdentityProviderGroup,
    Membership,
    Organisation,
    Prefecture,
    Region,
    SsoIdentity,
)
from support_network.reminder_rules import (
    known_rule_keys,
    network_reminder_rules,
    reminder_rules_errors,
    reminder_rules_help,
)
from support_network.services.accounts import last_org_admin_check
from support_network.services.network import organisation_place_changed


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


class MembershipAdminForm(forms.ModelForm):
    """A membership in the admin: it may not remove an organisation's last org admin.

    The same rule as the org admins' own pages (support_network.services.
    accounts), so the admin site is no way around it. Moving a membership to another
    organisation leaves the old one.
    """

    class Meta:
        model = Membership
        fields = "__all__"  # noqa: DJ007 (ModelAdmin.get_form picks the fields)

    def clean(self):
        cleaned = super().clean()
        stored = self.instance
        if stored.pk is None:
            return cleaned
        stored = Membership.objects.get(pk=stored.pk)
        organisation = cleaned.get("organisation", stored.organisation)
        moved = organisation is not None and organisation.pk != stored.organisation_id
        try:
            last_org_admin_check(
                stored,
                role=cleaned.get("role", stored.role),
                is_active=False
                if moved
                else cleaned.get("is_active", stored.is_active),
            )
        except DomainError as exc:
            raise forms.ValidationError(exc.detail, code=exc.code) from exc
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    extra = 0
    autocomplete_fields = ["user"]
    filter_horizontal = ["expertise"]


class OrganisationAdminForm(forms.ModelForm):
    """The organisation form; reminder overrides are checked key by key."""

    class Meta:
        model = Organisation
        fields = "__all__"  # noqa: DJ007 (ModelAdmin.get_form picks the fields)
        widgets = {
            "reminder_rules": forms.Textarea(
                attrs={"rows": 4, "cols": 60, "class": "vLargeTextField"}
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("reminder_rules")
        if field is not None:
            field.help_text = reminder_rules_help()

    def clean_reminder_rules(self):
        value = self.cleaned_data.get("reminder_rules")
        cleaned, errors = reminder_rules_errors(value)
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
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
    readonly_fields = ["reminder_rules_effective"]

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        obj._pending_delegated = form.cleaned_data.get("delegated_organisations") or []
        return obj

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"kind", "prefecture", "region"} & set(form.changed_data):
            organisation_place_changed([obj.pk])

    @admin.display(description=_("適用中のリマインド設定"))
    def reminder_rules_effective(self, obj):
        """Show each rule with the value this organisation gets."""
        overrides = (obj.reminder_rules or {}) if obj is not None else {}
        rows = []
        for key in known_rule_keys():
            value = overrides.get(key, network_reminder_rules()[key])
            where = _("この組織") if key in overrides else _("全国共通")
            rows.append((key, json.dumps(value, ensure_ascii=False), where))
        return format_html_join("\n", "<div>{}: {}（{}）</div>", rows)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "organisation", "role", "is_active", "capacity"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__username", "organisation__code", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]
    filter_horizontal = ["expertise"]


class IdentityProviderGroupFormSet(forms.BaseInlineFormSet):
    """Each group maps into the IdP's own organisation or one delegated to it.

    The delegations are those of the form being saved with it (see
    IdentityProviderAdmin.save_form), so both can change in one save.
    """

    def clean(self):
        super().clean()
        provider = self.instance
        pending = getattr(provider, "_pending_delegated", None)
        if pending is None:
            pending = provider.delegated_organisations.all() if provider.pk else []
        allowed = {provider.organisation_id} | {org.pk for org in pending}
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            organisation = form.cleaned_data.get("organisation")
            if organisation is not None and organisation.pk not in allowed:
                form.add_error(
                    "organisation",
                    _("この IdP の組織か、委任された組織だけを選べます。"),
                )


class IdentityProviderGroupInline(admin.TabularInline):
    model = IdentityProviderGroup
    formset = IdentityProviderGroupFormSet
    extra = 1
    autocomplete_fields = ["organisation"]


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """An organisation's OpenID Provider (README "シングルサインオン"); superusers only."""

    list_display = ["organisation", "display_name", "issuer", "is_enabled", "passwords_disabled"]
    list_filter = ["is_enabled", "passwords_disabled"]
    search_fields = ["organisation__code", "organisation__name", "issuer", "client_id"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["delegated_organisations"]
    inlines = [IdentityProviderGroupInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["organisation", "display_name", "is_enabled"]}),
        (
            _("OpenID Provider"),
            {"fields": ["issuer", "client_id", "client_secret_env", "scopes"]},
        ),
        (
            _("所属と役割"),
            {"fields": ["groups_claim", "delegated_organisations"]},
        ),
        (
            _("ログイン"),
            {"fields": ["email_domains", "mfa_acr_values", "passwords_disabled"]},
        ),
    ]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_form(self, request, form, change):
        obj = super().save_form(request, form, change)
        obj._pending_delegated = form.cleaned_data.get("delegated_organisations") or []
        return obj

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        from support_network.services.sso import provider_metadata_forget

        provider_metadata_forget(obj)


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Accounts at the IdPs. A superuser links an existing (password) account here
    before its organisation moves to SSO: provider + the IdP's `sub` + the user."""

    list_display = ["provider", "subject", "user", "last_login_at"]
    search_fields = ["subject", "user__username", "user__email"]
    list_select_related = ["provider__organisation", "user"]
    raw_id_fields = ["user"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return ["provider", "subject", "user", "last_login_at"]
        return ["last_login_at"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
