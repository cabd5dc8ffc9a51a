from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "yingdan.integrations"
    label = "integrations"
    verbose_name = _("Integrations")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from yingdan.core import registry
        from yingdan.notifications import services as notification_services

        from . import services, tasks  # noqa: F401  (tasks: registers the huey jobs)
        from .models import Webhook

        registry.register_event_handler(services.on_event, on_commit=True)
        notification_services.register_channel(services.robot_channel)
        registry.register_notification_kind(services.NOTIFY_WEBHOOK_DISABLED, _("Webhook disabled after failures"))
        post_save.connect(services.invalidate_subscriptions, sender=Webhook, dispatch_uid="yd_webhook_subs_save")
        post_delete.connect(services.invalidate_subscriptions, sender=Webhook, dispatch_uid="yd_webhook_subs_delete")
