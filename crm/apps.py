from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("顧客・案件")

    def ready(self):
        # Audit events for logins and failed logins (web, admin and API).
        from crm import login_audit  # noqa: F401

        # crm's export kinds (programs adds "enrolments" from its own ready()).
        from crm.exports import consultations, disclosure, referrals, statistics

        consultations.register()
        disclosure.register()
        referrals.register()
        statistics.register()
        from crm.statistics.facts import organisation_facts_refresh
        from support_network.extensions import organisation_place_hook_register

        organisation_place_hook_register(organisation_facts_refresh)

        # Audit events of account administration (support_network/services_accounts).
        from crm.services.audit_accounts import audit_member_event
        from support_network.extensions import member_event_hook_register

        member_event_hook_register(audit_member_event)

        # Audit events of single sign-on: logins and refusals with their reason.
        from crm.services.audit_accounts import audit_sso_event
        from support_network.extensions import sso_event_hook_register

        sso_event_hook_register(audit_sso_event)

        # Satisfaction surveys are scheduled and sent by the reminder sweep.
        from crm.extensions import reminder_source_register
        from crm.services.surveys import surveys_sweep

        reminder_source_register("crm.surveys", surveys_sweep)
