from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "yingdan.followups"
    label = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from yingdan.core import registry

        registry.register_module("followups", _("Follow-ups"), actions=["view", "create", "edit", "delete", "import", "export"], order=25)
        registry.register_lookup_kind("followup_type", _("Follow-up type"))
