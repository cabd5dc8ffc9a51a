from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpportunitiesConfig(AppConfig):
    name = "yingdan.opportunities"
    label = "opportunities"
    verbose_name = _("Opportunities")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from yingdan.core import registry

        from . import hooks, rollup
        from .models import Opportunity, StageChange

        registry.register_module("opportunities", _("Opportunities"), order=40)
        registry.register_module("pipelines", _("Pipelines"), actions=["view", "create", "edit", "delete"], order=45)
        registry.register_lookup_kind("opportunity_source", _("Opportunity source"))
        registry.register_custom_field_model(Opportunity)
        registry.register_notification_kind("opportunity_closed", _("Deal of your team won or lost"))
        hooks.register()
        post_save.connect(rollup.on_stage_change_saved, sender=StageChange, dispatch_uid="stage_change_rollup_save")
        post_delete.connect(rollup.on_stage_change_deleted, sender=StageChange, dispatch_uid="stage_change_rollup_delete")
