"""The handover providers of the customer-assets apps: customers (their contacts and next follow-up plan
travel with them) and leads. Opportunities, tasks and contracts register their own through the same
registry (`core.registry.register_handover_provider`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.services import require
from yingdan.customers.models import Contact, Customer
from yingdan.customers.services import transfer_customers
from yingdan.leads.models import Lead

try:  # written by the leads helper; a local fallback below until it lands
    from yingdan.leads.services import transfer_leads
except ImportError:  # pragma: no cover - depends on the merge order
    transfer_leads = None

try:  # written by the pools helper; without it, "return to pool" is refused with a clear message
    from yingdan.pools.services import release as pool_release
except ImportError:  # pragma: no cover - depends on the merge order
    pool_release = None


@dataclass
class DetailedHandoverProvider(registry.HandoverProvider):
    """A provider that also describes what travels with its records (shown in the preview)."""

    details: object = None  # callable(user) -> list[(label, count)]


# -- customers -----------------------------------------------------------------------------------------
def customer_ids(user) -> list[int]:
    return list(Customer.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True))


def customer_count(user) -> int:
    return Customer.objects.filter(owner=user).count()


def customer_details(user) -> list[tuple[str, int]]:
    owned = Customer.objects.filter(owner=user)
    return [
        (_("contacts"), Contact.objects.filter(customer__in=owned.values("pk")).count()),
        (_("follow-up plans"), owned.filter(next_followup_at__isnull=False).count()),
    ]


def customer_transfer(actor, ids, new_owner) -> int:
    # Contacts take their scope from their customer and the next follow-up date is a customer field:
    # both follow the customer without a write of their own.
    return transfer_customers(actor, ids, new_owner)


def customer_release(actor, ids, reason) -> int:
    return _release(actor, Customer, ids, reason)


# -- leads ---------------------------------------------------------------------------------------------
def lead_ids(user) -> list[int]:
    return list(Lead.objects.filter(owner=user).order_by("pk").values_list("pk", flat=True))


def lead_count(user) -> int:
    return Lead.objects.filter(owner=user).count()


def lead_transfer(actor, ids, new_owner) -> int:
    if transfer_leads is not None:
        return transfer_leads(actor, ids, new_owner)
    return _transfer_leads_fallback(actor, ids, new_owner)


@transaction.atomic
def _transfer_leads_fallback(actor, ids, new_owner) -> int:
    """Same rule as customers.transfer_customers, for as long as leads.services has no transfer_leads."""
    require(actor, "leads", Action.TRANSFER)
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    count = 0
    for lead in Lead.objects.visible_to(actor, Action.TRANSFER).select_for_update().filter(pk__in=list(ids)):
        if lead.owner_id == new_owner.pk:
            continue
        lead.owner = new_owner
        lead.sync_department()
        lead.save(update_fields=["owner", "department", "updated_at"])
        count += 1
    return count


def lead_release(actor, ids, reason) -> int:
    return _release(actor, Lead, ids, reason)


def _release(actor, model, ids, reason) -> int:
    if pool_release is None:
        raise ValidationError(_("Public pools are not available yet; choose a successor instead."))
    result = pool_release(actor, model, ids, reason)
    if result is None:
        return len(ids)
    return result if isinstance(result, int) else len(list(result))


def register() -> None:
    registry.register_handover_provider(DetailedHandoverProvider(
        key="customers", label=gettext_lazy("Customers"), count=customer_count, ids=customer_ids,
        transfer=customer_transfer, release=customer_release, order=10, details=customer_details,
    ))
    registry.register_handover_provider(registry.HandoverProvider(
        key="leads", label=gettext_lazy("Leads"), count=lead_count, ids=lead_ids,
        transfer=lead_transfer, release=lead_release, order=20,
    ))
