from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import AutomationRule, BriefSchedule


def _object_label(rule):
    from .engine import object_types

    return dict(object_types()).get(rule.object_type, rule.object_type)


def _toggle(rule):
    """Enable/disable from the list (HTMX POST with the page's CSRF header; the view redirects back here)."""
    label = gettext("Disable") if rule.is_active else gettext("Enable")
    return format_html(
        '<button type="button" class="btn btn-sm btn-outline-secondary" data-testid="rule-toggle-{}" hx-post="{}" '
        'hx-vals=\'{{"active": "{}", "next": "{}"}}\'>{}</button>',
        rule.pk, reverse("automation:rule_toggle", args=[rule.pk]), "0" if rule.is_active else "1",
        reverse("automation:rule_list"), label)


class RuleTable(Table):
    object = Column(_("Object"), render=_object_label, sortable=False)
    toggle = Column(_("Enable/disable"), render=_toggle, sortable=False)

    class Meta:
        model = AutomationRule
        fields = ["name", "object", "trigger", "is_active", "disabled_reason", "created_by", "updated_at", "toggle"]
        default_columns = fields
        linkify = ["name"]


class BriefTable(Table):
    class Meta:
        model = BriefSchedule
        fields = ["name", "department", "frequency", "send_time", "is_active", "last_period"]
        default_columns = fields
        linkify = ["name"]
