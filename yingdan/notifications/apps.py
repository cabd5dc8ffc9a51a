from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yingdan.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import tasks  # noqa: F401  (registers the huey jobs)

        registry.register_notification_kind("system", _("System message"))
