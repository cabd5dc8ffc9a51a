from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "yingdan.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from yingdan.core import registry

        from .models import Lead

        registry.register_module("leads", _("Leads"), order=5)
        registry.register_lookup_kind("lead_status", _("Lead status"))
        registry.register_lookup_kind("lead_source", _("Lead source"))
        registry.register_custom_field_model(Lead)
