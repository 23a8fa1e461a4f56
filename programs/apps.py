from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = _("支援事業")

    def ready(self):
        from programs.extensions import register

        register()  # export kind, reminder milestones, statistics (extensions.py)
