"""Every write to customers and contacts goes through these functions (web, API, import, automation)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.models import Tag
from yingdan.core.permissions import get_permissions
from yingdan.core.services import (
    check_field_permissions,
    delete_visible,
    ensure_visible,
    lock_visible,
    require,
)

from .models import Contact, Customer


def _apply_custom_fields(obj, custom_fields, partial: bool) -> None:
    if custom_fields is not None or obj.pk is None:
        obj.custom_fields = obj.validate_custom_fields(custom_fields or {}, partial=partial and obj.pk is not None)


def resolve_tags(tags) -> list[Tag]:
    """Tags given as Tag objects or names; unknown names are created (tags are free-form labels)."""
    out = []
    for tag in tags:
        if isinstance(tag, Tag):
            out.append(tag)
            continue
        name = str(tag).strip()[:50]
        if name:
            out.append(Tag.objects.get_or_create(name=name)[0])
    return out


@transaction.atomic
def save_customer(actor, customer: Customer, *, collaborators=None, tags=None, custom_fields=None, partial: bool = True,
                  entry_point: str | None = None, confirm_duplicates: bool = False) -> Customer:
    """Create or update a customer.

    The duplicate checks registered for customers run before saving (block, or warn unless
    `confirm_duplicates`); `entry_point` ("form", "api", "import") picks the rule's action.

    Creating needs 'create'; updating needs 'edit' on a customer inside the actor's scope. Setting an owner other
    than oneself (or changing the owner) needs 'transfer'. The department follows the owner.
    """
    is_new = customer.pk is None
    owner_changed = False
    if is_new:
        require(actor, "customers", Action.CREATE)
        if customer.owner_id is None:
            customer.owner = actor
        owner_changed = customer.owner_id != actor.pk
        customer.created_by = actor
    else:
        require(actor, "customers", Action.EDIT)
        current = lock_visible(actor, Customer, customer.pk, Action.EDIT)
        owner_changed = current.owner_id != customer.owner_id
        if not hasattr(customer, "_changelog_snapshot"):
            customer._changelog_snapshot = current._changelog_snapshot
    if owner_changed and not get_permissions(actor).has("customers", Action.TRANSFER):
        raise ValidationError({"owner": [_("You may not assign customers to someone else.")]})
    customer.sync_department()
    _apply_custom_fields(customer, custom_fields, partial)
    customer.full_clean()
    check_field_permissions(actor, customer, allowed={"owner", "department"} if is_new else {"department"})
    registry.run_save_checks(actor, customer, entry_point=entry_point, confirmed=confirm_duplicates)
    customer.save()
    if collaborators is not None:
        customer.collaborators.set(collaborators)
    if tags is not None:
        customer.tags.set(resolve_tags(tags))
    if not owner_changed:
        ensure_visible(actor, customer, Action.VIEW)
    return customer


@transaction.atomic
def transfer_customers(actor, customer_ids, new_owner, *, with_contacts: bool = True) -> int:
    """Change the owner of several customers (转移). Needs 'transfer'; each change is audited."""
    require(actor, "customers", Action.TRANSFER)
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    count = 0
    for customer in Customer.objects.visible_to(actor, Action.TRANSFER).select_for_update().filter(pk__in=list(customer_ids)):
        if customer.owner_id == new_owner.pk:
            continue
        customer.owner = new_owner
        customer.sync_department()
        customer.save(update_fields=["owner", "department", "updated_at"])
        count += 1
    return count


@transaction.atomic
def update_customers(actor, customer_ids, **values) -> int:
    """Bulk edit of simple fields (level, status, industry, source) on customers in the actor's scope."""
    require(actor, "customers", Action.EDIT)
    allowed = {"level", "status", "industry", "source"}
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError(_("These fields cannot be bulk edited: %(f)s") % {"f": ", ".join(sorted(unknown))})
    count = 0
    for customer in Customer.objects.visible_to(actor, Action.EDIT).select_for_update().filter(pk__in=list(customer_ids)):
        for name, value in values.items():
            setattr(customer, name, value)
        check_field_permissions(actor, customer)
        customer.save()
        count += 1
    return count


@transaction.atomic
def delete_customer(actor, customer: Customer) -> None:
    require(actor, "customers", Action.DELETE)
    lock_visible(actor, Customer, customer.pk, Action.DELETE).delete()


def delete_customers(actor, customer_ids) -> int:
    """Delete the given customers that are inside the actor's delete scope (others are skipped)."""
    return delete_visible(actor, Customer, customer_ids)


@transaction.atomic
def save_contact(actor, contact: Contact, *, custom_fields=None, partial: bool = True,
                 entry_point: str | None = None, confirm_duplicates: bool = False) -> Contact:
    """Create or update a contact; its customer must be one the actor may edit (or view, to add contacts)."""
    is_new = contact.pk is None
    if is_new:
        require(actor, "contacts", Action.CREATE)
        contact.created_by = actor
    else:
        require(actor, "contacts", Action.EDIT)
        current = lock_visible(actor, Contact, contact.pk, Action.EDIT)
        if not hasattr(contact, "_changelog_snapshot"):
            contact._changelog_snapshot = current._changelog_snapshot
    if contact.customer_id and not Customer.objects.visible_to(actor, Action.VIEW).filter(pk=contact.customer_id).exists():
        raise ValidationError({"customer": [_("Choose a customer you have access to.")]})
    _apply_custom_fields(contact, custom_fields, partial)
    contact.full_clean()
    check_field_permissions(actor, contact)
    registry.run_save_checks(actor, contact, entry_point=entry_point, confirmed=confirm_duplicates)
    contact.save()
    if contact.is_primary:
        for other in Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(pk=contact.pk):
            other.is_primary = False
            other.save(update_fields=["is_primary", "updated_at"])
    ensure_visible(actor, contact, Action.VIEW)
    return contact


@transaction.atomic
def delete_contact(actor, contact: Contact) -> None:
    require(actor, "contacts", Action.DELETE)
    lock_visible(actor, Contact, contact.pk, Action.DELETE).delete()


def delete_contacts(actor, contact_ids) -> int:
    return delete_visible(actor, Contact, contact_ids)
