from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportNetworkConfig(AppConfig):
    name = "support_network"
    verbose_name = _("支援ネットワーク")

    def ready(self) -> None:
        from support_network import checks  # noqa: F401
