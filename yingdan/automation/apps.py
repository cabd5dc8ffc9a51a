from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    name = "yingdan.automation"
    label = "automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from yingdan.core import registry

        from . import engine
        from .models import AutomationRule

        registry.register_notification_kind("automation", _("Automation rule"))
        registry.register_notification_kind("sales_brief", _("Sales brief"))
        registry.register_event_handler(engine.on_event, on_commit=False)
        post_save.connect(engine.invalidate, sender=AutomationRule, dispatch_uid="automation_rule_saved")
        post_delete.connect(engine.invalidate, sender=AutomationRule, dispatch_uid="automation_rule_deleted")
        from yingdan.core.models import CustomField

        post_save.connect(engine.invalidate, sender=CustomField, dispatch_uid="automation_cf_saved")
        post_delete.connect(engine.invalidate, sender=CustomField, dispatch_uid="automation_cf_deleted")
