from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import FollowUp


def _about(f):
    parent = f.customer if f.customer_id else f.lead
    if parent is None:
        return ""
    return format_html('<a href="{}">{}</a>', parent.get_absolute_url(), parent)


def _excerpt(f):
    text = " ".join((f.content or "").split())
    return text[:60] + ("…" if len(text) > 60 else "")


class FollowUpTable(Table):
    when = Column(_("Time"), accessor="occurred_at", order_by="occurred_at", linkify=True)
    about = Column(_("Customer / lead"), render=_about, sortable=False)
    excerpt = Column(_("Content"), render=_excerpt, sortable=False)
    owner = Column(order_by="owner_id")

    class Meta:
        model = FollowUp
        fields = ["when", "type", "about", "excerpt", "owner", "department", "next_at", "next_plan", "checkin_address", "created_at"]
        default_columns = ["when", "type", "about", "excerpt", "owner", "next_at"]
        linkify = ["when"]
