from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import HandoverRecord


def render_successors(record):
    names = [u.display_name for u in record.successors.all()]
    if not names:
        return format_html('<span class="text-muted">{}</span>', _("Public pool"))
    return "、".join(names)


def render_leaving(record):
    return format_html('<a href="{}">{}</a>', record.get_absolute_url(), record.from_user.display_name)


class HandoverRecordTable(Table):
    leaving = Column(_("Leaving user"), render=render_leaving, order_by="from_user__name")
    successor_names = Column(_("Successors"), render=render_successors)
    created_by = Column(_("Done by"), order_by="created_by__name")

    class Meta:
        model = HandoverRecord
        fields = ["leaving", "mode", "successor_names", "total", "reason", "created_by", "created_at"]
        default_columns = ["leaving", "mode", "successor_names", "total", "created_by", "created_at"]
