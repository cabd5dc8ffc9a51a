from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import AutomationRule, BriefSchedule


def _object_label(rule):
    from .engine import object_types

    return dict(object_types()).get(rule.object_type, rule.object_type)


class RuleTable(Table):
    object = Column(_("Object"), render=_object_label, sortable=False)

    class Meta:
        model = AutomationRule
        fields = ["name", "object", "trigger", "is_active", "disabled_reason", "created_by", "updated_at"]
        default_columns = fields
        linkify = ["name"]


class BriefTable(Table):
    class Meta:
        model = BriefSchedule
        fields = ["name", "department", "frequency", "send_time", "is_active", "last_period"]
        default_columns = fields
        linkify = ["name"]
