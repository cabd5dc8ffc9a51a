from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolsConfig(AppConfig):
    name = "yingdan.pools"
    label = "pools"
    verbose_name = _("Public pools")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import services, tasks  # noqa: F401  (tasks: registers the nightly huey job)
        from .timeline import pool_timeline

        registry.register_module("pools", _("Public pools"), actions=["view", "create", "edit", "delete"], order=30)
        registry.register_notification_kind(services.NOTIFY_WARNING, _("Records about to return to a public pool"))
        registry.register_notification_kind(services.NOTIFY_ASSIGNED, _("Records assigned to you from a public pool"))
        registry.register_timeline_provider("customers.customer", pool_timeline)
        registry.register_timeline_provider("leads.lead", pool_timeline)
        registry.register_default_data(services.ensure_default_pools)
