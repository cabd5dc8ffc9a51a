"""What the leads app plugs into the platform's registries (see apps.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from yingdan.core import registry

from .models import Lead


def default_lookups() -> None:
    from yingdan.core.models import Lookup

    from .defaults import ensure_default_lookups

    ensure_default_lookups(Lookup)


def customer_leads_tab(request, customer) -> dict:
    leads = (Lead.objects.visible_to(request.user).filter(converted_customer=customer)
             .select_related("owner", "converted_contact").order_by("-converted_at", "-id")[:50])
    return {"source_leads": list(leads)}


def customer_timeline(obj, user, *, before=None, limit=50) -> list:
    """“Converted from lead …” on the customer's timeline."""
    leads = Lead.objects.visible_to(user).filter(converted_customer=obj, converted_at__isnull=False)
    if before is not None:
        leads = leads.filter(converted_at__lt=before)
    return [
        registry.TimelineEntry(
            at=lead.converted_at, kind="lead", title=_("Converted from lead “%(lead)s”") % {"lead": lead},
            url=lead.get_absolute_url(), icon="funnel",
        )
        for lead in leads.order_by("-converted_at")[:limit]
    ]


def lead_timeline(obj, user, *, before=None, limit=50) -> list:
    if obj.converted_at is None or (before is not None and obj.converted_at >= before):
        return []
    customer = obj.converted_customer
    return [registry.TimelineEntry(
        at=obj.converted_at, kind="lead", icon="arrow-right-circle",
        title=_("Converted to customer “%(customer)s”") % {"customer": customer or "—"},
        url=customer.get_absolute_url() if customer else "",
    )]
