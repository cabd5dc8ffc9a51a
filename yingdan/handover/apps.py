from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoverConfig(AppConfig):
    name = "yingdan.handover"
    label = "handover"
    verbose_name = _("Handover")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import providers

        providers.register()
        registry.register_notification_kind("handover", _("Records handed over to you"))
