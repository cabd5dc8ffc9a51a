"""What the opportunities app plugs into other apps through core.registry: the customer timeline and tab,
handover, the duplicate warning and the default data."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions

from . import services
from .defaults import ensure_defaults_with
from .models import Opportunity, StageChange, StageKind


def customer_timeline(customer, user, *, before=None, limit=50) -> list:
    """Opportunity created / moved / won / lost, for deals on this customer the user may see."""
    if not get_permissions(user).has("opportunities", Action.VIEW):
        return []
    visible = Opportunity.objects.visible_to(user).filter(customer=customer).values("pk")
    changes = (StageChange.objects.filter(opportunity__in=visible)
               .select_related("opportunity", "to_stage", "from_stage", "changed_by").order_by("-changed_at", "-id"))
    if before is not None:
        changes = changes.filter(changed_at__lt=before)
    entries = []
    for change in changes[:limit]:
        opp = change.opportunity
        if change.from_stage_id is None:
            title, icon = _("Opportunity created: %(name)s") % {"name": opp.name}, "briefcase"
        elif change.to_stage.kind == StageKind.WON:
            title, icon = _("Opportunity won: %(name)s") % {"name": opp.name}, "trophy"
        elif change.to_stage.kind == StageKind.LOST:
            title, icon = _("Opportunity lost: %(name)s") % {"name": opp.name}, "x-octagon"
        else:
            title, icon = _("Opportunity moved: %(name)s") % {"name": opp.name}, "arrow-right-circle"
        body = change.to_stage.name if change.from_stage_id is None else f"{change.from_stage.name} → {change.to_stage.name}"
        entries.append(registry.TimelineEntry(
            at=change.changed_at, kind="opportunity", title=title, body=body, actor=change.changed_by,
            url=reverse("opportunities:opportunity_detail", args=[opp.pk]), icon=icon,
            data={"opportunity": opp.pk, "stage": change.to_stage_id, "state": change.to_stage.kind},
        ))
    return entries


def customer_tab_context(request, customer) -> dict:
    opps = (Opportunity.objects.visible_to(request.user).filter(customer=customer)
            .select_related("stage", "owner", "pipeline").order_by("-id")[:100])
    perms = get_permissions(request.user)
    return {"opportunities": opps, "can_add_opportunity": perms.has("opportunities", Action.CREATE)}


def load_defaults() -> None:
    ensure_defaults_with()


def register() -> None:
    registry.register_timeline_provider("customers.customer", customer_timeline)
    registry.register_detail_tab("customers.customer", registry.DetailTab(
        key="opportunities", label=gettext_lazy("Opportunities"), template="opportunities/_customer_tab.html",
        context=customer_tab_context, permission=("opportunities", Action.VIEW), order=30,
    ))
    registry.register_handover_provider(registry.HandoverProvider(
        key="opportunities", label=gettext_lazy("Open opportunities"), count=services.handover_count,
        ids=services.handover_ids, transfer=services.handover_transfer, release=None, order=30,
    ))
    registry.register_save_check("opportunities.opportunity", services.duplicate_check)
    registry.register_default_data(load_defaults)
