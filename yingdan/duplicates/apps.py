from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuplicatesConfig(AppConfig):
    name = "yingdan.duplicates"
    label = "duplicates"
    verbose_name = _("Duplicate checks")

    def ready(self) -> None:
        from yingdan.core import registry

        from . import services
        from .defaults import ensure_default_rules

        for label, object_type in (("customers.customer", "customer"), ("customers.contact", "contact"), ("leads.lead", "lead")):
            registry.register_save_check(label, services.make_save_check(object_type))
            registry.register_object_redirect(label, services.object_redirect(object_type))
        registry.register_notification_kind("transfer_request", _("Transfer request"))
        registry.register_notification_kind("transfer_decision", _("Transfer request decided"))
        registry.register_default_data(ensure_default_rules)
