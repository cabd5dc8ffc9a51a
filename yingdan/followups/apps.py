from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupsConfig(AppConfig):
    name = "yingdan.followups"
    label = "followups"
    verbose_name = _("Follow-ups")

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from yingdan.core import registry

        from . import services, timeline
        from .models import FollowUp

        post_delete.connect(services.followup_deleted, sender=FollowUp, dispatch_uid="followup_attachments_deleted")

        registry.register_module("followups", _("Follow-ups"), actions=["view", "create", "edit", "delete", "import", "export"], order=25)
        registry.register_lookup_kind("followup_type", _("Follow-up type"))
        registry.register_notification_kind("mention", _("Mentioned in a comment"))
        registry.register_notification_kind("followup_comment", _("Comment on your follow-up"))
        registry.register_default_data(_default_data)
        timeline.register()


def _default_data() -> None:
    from yingdan.core.models import Lookup

    from .defaults import ensure_defaults

    ensure_defaults(Lookup)
