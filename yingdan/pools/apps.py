from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoolsConfig(AppConfig):
    name = "yingdan.pools"
    label = "pools"
    verbose_name = _("Public pools")

    def ready(self) -> None:
        from yingdan.core import registry

        registry.register_module("pools", _("Public pools"), actions=["view", "create", "edit", "delete"], order=30)
