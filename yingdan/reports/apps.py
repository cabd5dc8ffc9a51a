from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "yingdan.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from yingdan.core import registry

        registry.register_module("reports", _("Reports"), actions=["view", "export"], order=60)
