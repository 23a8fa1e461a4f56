from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("支援事業")

    def ready(self):
        from programs.exports import register as register_exports

        register_exports()  # the "enrolments" export kind (crm/exports/kinds.py)
        from programs.reminders import register as register_reminders

        register_reminders()  # program milestones in the reminder sweep
        from crm.extensions import program_statistics_register
        from programs.statistics import program_statistics

        program_statistics_register(program_statistics)  # the managers' page
