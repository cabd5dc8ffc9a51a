from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "yingdan.leads"
    label = "leads"
    verbose_name = _("Leads")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import hooks
        from .models import Lead
        from .search import LeadSearchProvider

        registry.register_module("leads", _("Leads"), order=5)
        registry.register_lookup_kind("lead_status", _("Lead status"))
        registry.register_lookup_kind("lead_source", _("Lead source"))
        registry.register_custom_field_model(Lead)
        registry.register_default_data(hooks.default_lookups)
        registry.register_notification_kind("lead_assigned", _("Lead assigned to you"))
        provider = LeadSearchProvider()
        if not any(p.key == provider.key for p in registry.search_providers):
            registry.register_search_provider(provider)
        registry.register_text_filter(Lead._meta.label_lower, provider.list_filter)
        registry.register_detail_tab("customers.customer", registry.DetailTab(
            key="leads", label=_("Source leads"), template="leads/_customer_leads_tab.html",
            context=hooks.customer_leads_tab, permission=("leads", "view"), order=80,
        ))
        registry.register_timeline_provider("customers.customer", hooks.customer_timeline)
        registry.register_timeline_provider("leads.lead", hooks.lead_timeline)
