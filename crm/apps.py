from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("顧客・案件")

    def ready(self):
        # Audit events for logins and failed logins (web, admin and API).
        from crm import login_audit  # noqa: F401
        from crm.services.facts import organisation_facts_refresh
        from support_network.services import register_organisation_place_hook

        register_organisation_place_hook(organisation_facts_refresh)
