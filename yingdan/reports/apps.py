from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "yingdan.reports"
    label = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from yingdan.core import registry

        from .tabs import user_sop_context

        registry.register_module("reports", _("Reports"), actions=["view", "export"], order=60)
        # SOP compliance (流程遵守率) of a rep on their user page.
        registry.register_detail_tab("org.user", registry.DetailTab(
            key="sop", label=_("SOP compliance"), template="reports/_user_sop_tab.html", context=user_sop_context,
            permission=("reports", "view"), order=50,
        ))
