from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import DuplicateRule, TransferRequest


class DuplicateRuleTable(Table):
    conditions = Column(_("Fields"), render=lambda r: r.conditions_display, sortable=False)

    class Meta:
        model = DuplicateRule
        fields = ["name", "object_type", "target_type", "conditions", "form_action", "api_action", "import_action", "is_active", "order"]
        default_columns = fields
        linkify = ["name"]


class TransferRequestTable(Table):
    record = Column(_("Record"), render=lambda r: format_html('<a href="{}">{}</a>', r.get_absolute_url(), str(r)), sortable=False)

    class Meta:
        model = TransferRequest
        fields = ["record", "object_type", "requester", "current_owner", "department", "status", "reason", "created_at", "decided_by", "decided_at"]
        default_columns = ["record", "requester", "current_owner", "department", "status", "created_at", "decided_by"]
