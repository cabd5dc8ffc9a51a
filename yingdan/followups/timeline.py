"""Follow-ups on the timeline of customers and leads, and the timeline tab (with the quick follow-up form)."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from yingdan.core import files, registry
from yingdan.core import timeline as core_timeline
from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.customers.models import Contact, Customer
from yingdan.leads.models import Lead

from .forms import QuickFollowUpForm
from .models import FollowUp, FollowUpComment

ENTRY_TEMPLATE = "followups/_timeline_followup.html"


def _followups(qs, user, before, limit):
    if before is not None:
        qs = qs.filter(occurred_at__lt=before)
    rows = list(
        qs.select_related("type", "owner").prefetch_related(
            Prefetch("comments", queryset=FollowUpComment.objects.select_related("author").order_by("id")),
            Prefetch("contacts", queryset=Contact.objects.only("id", "name")),
        ).order_by("-occurred_at", "-id")[:limit]
    )
    attached = files.attachments_of(FollowUp, [f.pk for f in rows])
    for f in rows:
        f.attachment_list = attached.get(f.pk, [])
    return rows


def entries_for(rows):
    return [
        registry.TimelineEntry(
            at=f.occurred_at, kind="followup", title=str(f.type), actor=f.owner, url=f.get_absolute_url(),
            icon=icon_for(f.type.code), template=ENTRY_TEMPLATE, data={"followup": f},
        )
        for f in rows
    ]


ICONS = {"call": "telephone", "visit": "geo-alt", "wechat": "wechat", "email": "envelope", "meeting": "people"}


def icon_for(code: str) -> str:
    return ICONS.get(code or "", "chat-dots")


def customer_followups(obj, user, *, before=None, limit=core_timeline.PAGE_SIZE):
    """The customer's follow-ups, and those of the leads converted into it (two index range scans)."""
    if not get_permissions(user).has("followups", Action.VIEW):
        return []
    rows = _followups(FollowUp.of_parent(user, customer_id=obj.pk, parent=obj), user, before, limit)
    lead_ids = list(Lead.objects.filter(converted_customer_id=obj.pk).values_list("pk", flat=True)[:50])
    if lead_ids:
        rows += _followups(FollowUp.of_parent(user, lead_ids=lead_ids).filter(customer__isnull=True), user, before, limit)
    return entries_for(rows)


def lead_followups(obj, user, *, before=None, limit=core_timeline.PAGE_SIZE):
    if not get_permissions(user).has("followups", Action.VIEW):
        return []
    return entries_for(_followups(FollowUp.of_parent(user, lead_ids=[obj.pk]), user, before, limit))


def tab_context(request, obj) -> dict:
    ctx = core_timeline.context(request, obj)
    perms = get_permissions(request.user)
    if perms.has("followups", Action.CREATE):
        field = "customer" if isinstance(obj, Customer) else "lead"
        ctx["quick_form"] = QuickFollowUpForm(user=request.user, initial={field: obj.pk}, parent=obj)
        ctx["quick_parent_field"] = field
    ctx["can_comment"] = perms.has("followups", Action.VIEW)
    return ctx


def register() -> None:
    registry.register_timeline_provider("customers.customer", customer_followups)
    registry.register_timeline_provider("leads.lead", lead_followups)
    for label in ("customers.customer", "leads.lead"):
        registry.register_timeline_provider(label, core_timeline.changes_provider)
        registry.register_detail_tab(label, registry.DetailTab(
            key="timeline", label=_("Timeline"), template="followups/_timeline_tab.html", context=tab_context, order=5,
        ))

