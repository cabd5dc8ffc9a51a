from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "yingdan.exports"
    label = "exports"
    verbose_name = _("Exports")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import services, tasks  # noqa: F401  (tasks: registers the huey job)

        registry.register_notification_kind(services.NOTIFY_READY, _("Export ready to download"))
