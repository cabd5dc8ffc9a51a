from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "yingdan.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        from yingdan.core import registry

        from .models import Contact, Customer

        registry.register_module("customers", _("Customers"), order=10)
        registry.register_module("contacts", _("Contacts"), order=20)
        registry.register_lookup_kind("customer_level", _("Customer level"))
        registry.register_lookup_kind("customer_status", _("Customer status"))
        registry.register_lookup_kind("industry", _("Industry"))
        registry.register_lookup_kind("customer_source", _("Customer source"))
        registry.register_custom_field_model(Customer)
        registry.register_custom_field_model(Contact)
        registry.register_default_data(_default_lookups)


def _default_lookups() -> None:
    from yingdan.core.models import Lookup

    from .defaults import ensure_default_lookups

    ensure_default_lookups(Lookup)
