"""Every write to leads goes through these functions (web, API, import, pools, handover, automation):
saving, bulk edit/transfer/delete, conversion to a customer, and fair assignment inside a team."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.models import Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.services import (
    check_field_permissions,
    delete_visible,
    ensure_visible,
    lock_visible,
    require,
)
from yingdan.customers import services as customer_services
from yingdan.customers.models import Contact, Customer
from yingdan.followups.models import FollowUp
from yingdan.notifications.services import notify

from .defaults import CLOSED_STATUS_CODES, STATUS_CONVERTED, STATUS_NEW
from .models import AssignmentMethod, AssignmentRule, Lead, LoadBasis

NOTIFY_ASSIGNED = "lead_assigned"


def status_by_code(code: str) -> Lookup | None:
    return Lookup.objects.filter(kind="lead_status", code=code).first()


def open_leads_q(prefix: str = "") -> Q:
    """Leads still being worked: not converted, and not in a closed status (converted / invalid)."""
    return Q(**{f"{prefix}converted_at__isnull": True}) & ~Q(**{f"{prefix}status__code__in": CLOSED_STATUS_CODES})


def _apply_custom_fields(obj, custom_fields, partial: bool) -> None:
    if custom_fields is not None or obj.pk is None:
        obj.custom_fields = obj.validate_custom_fields(custom_fields or {}, partial=partial and obj.pk is not None)


def _notify_owner(actor, lead: Lead) -> None:
    if lead.owner_id and lead.owner_id != getattr(actor, "pk", None):
        notify([lead.owner], NOTIFY_ASSIGNED, _("Lead assigned to you: %(lead)s") % {"lead": lead},
               url=lead.get_absolute_url(), actor=actor, target=lead)


# -- leads ---------------------------------------------------------------------------------------------
@transaction.atomic
def save_lead(actor, lead: Lead, *, collaborators=None, custom_fields=None, partial: bool = True,
              entry_point: str | None = None, confirm_duplicates: bool = False, assign_to_department=None) -> Lead:
    """Create or update a lead.

    Creating needs 'create'; updating needs 'edit' on a lead inside the actor's scope. An owner other than
    oneself (or a changed owner) needs 'transfer'. `assign_to_department` (new leads only) picks the owner
    with that team's assignment rule (round robin or fewest open records). The department follows the owner.
    New leads start in the "new" status. The duplicate checks registered for leads run before saving.
    """
    is_new = lead.pk is None
    if is_new:
        require(actor, "leads", Action.CREATE)
        if assign_to_department is not None:
            lead.owner = pick_owners(assign_to_department, 1, object_type="lead")[0]
        elif lead.owner_id is None:
            lead.owner = actor
        owner_changed = lead.owner_id != actor.pk
        lead.created_by = actor
        if lead.status_id is None:
            lead.status = status_by_code(STATUS_NEW)
        if lead.owner_id:
            lead.owner_since = timezone.now()
    else:
        if assign_to_department is not None:
            raise ValidationError({"assign_to_department": [_("Only new leads are assigned to a team; change the owner instead.")]})
        require(actor, "leads", Action.EDIT)
        current = lock_visible(actor, Lead, lead.pk, Action.EDIT)
        owner_changed = current.owner_id != lead.owner_id
        if not hasattr(lead, "_changelog_snapshot"):
            lead._changelog_snapshot = current._changelog_snapshot
        if owner_changed:
            lead.previous_owner_id = current.owner_id
            lead.owner_since = timezone.now() if lead.owner_id else None
    if owner_changed and not get_permissions(actor).has("leads", Action.TRANSFER):
        field = "assign_to_department" if assign_to_department is not None else "owner"
        raise ValidationError({field: [_("You may not assign leads to someone else.")]})
    if (is_new or owner_changed) and lead.owner_id and not lead.owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    if lead.status_id and lead.converted_at is None and lead.status.code == STATUS_CONVERTED:
        raise ValidationError({"status": [_("A lead becomes converted by converting it to a customer.")]})
    lead.sync_department()
    _apply_custom_fields(lead, custom_fields, partial)
    lead.full_clean()
    check_field_permissions(actor, lead, allowed={"owner", "department", "status", "owner_since"} if is_new else {"department", "previous_owner", "owner_since"})
    registry.run_save_checks(actor, lead, entry_point=entry_point, confirmed=confirm_duplicates)
    lead.save()
    if collaborators is not None:
        lead.collaborators.set(collaborators)
    if owner_changed:
        _notify_owner(actor, lead)
    else:
        ensure_visible(actor, lead, Action.VIEW)
    return lead


@transaction.atomic
def transfer_leads(actor, lead_ids, new_owner) -> int:
    """Give several leads to one user (转移). Needs 'transfer'; each change is audited; the new owner is notified."""
    require(actor, "leads", Action.TRANSFER)
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    count = 0
    now = timezone.now()
    for lead in Lead.objects.visible_to(actor, Action.TRANSFER).select_for_update().filter(pk__in=list(lead_ids)):
        if lead.owner_id == new_owner.pk:
            continue
        lead.previous_owner_id = lead.owner_id
        lead.owner = new_owner
        lead.owner_since = now
        lead.pool = None
        lead.pool_entered_at = None
        lead.sync_department()
        lead.save(update_fields=["owner", "department", "previous_owner", "owner_since", "pool", "pool_entered_at", "updated_at"])
        count += 1
    if count:
        notify([new_owner], NOTIFY_ASSIGNED, _("%(n)d lead(s) assigned to you") % {"n": count}, actor=actor,
               url=f"{reverse('leads:lead_list')}?owner={new_owner.pk}")
    return count


@transaction.atomic
def assign_leads_to_team(actor, lead_ids, department) -> int:
    """Share several leads out inside a team by its assignment rule (one pick per lead, fair under
    concurrency). Needs 'transfer'; converted leads and leads the team already holds are skipped."""
    require(actor, "leads", Action.TRANSFER)
    leads = list(
        Lead.objects.visible_to(actor, Action.TRANSFER).select_for_update()
        .filter(pk__in=list(lead_ids), converted_at__isnull=True).exclude(department=department).order_by("pk")
    )
    if not leads:
        return 0
    owners = pick_owners(department, len(leads), object_type="lead")
    now = timezone.now()
    received: dict = {}
    for lead, owner in zip(leads, owners, strict=True):
        lead.previous_owner_id = lead.owner_id
        lead.owner = owner
        lead.owner_since = now
        lead.pool = None
        lead.pool_entered_at = None
        lead.sync_department()
        lead.save(update_fields=["owner", "department", "previous_owner", "owner_since", "pool", "pool_entered_at", "updated_at"])
        received.setdefault(owner.pk, [owner, 0])[1] += 1
    for owner, n in received.values():
        notify([owner], NOTIFY_ASSIGNED, _("%(n)d lead(s) assigned to you") % {"n": n}, actor=actor,
               url=f"{reverse('leads:lead_list')}?owner={owner.pk}")
    return len(leads)


BULK_FIELDS = {"status", "source"}


@transaction.atomic
def update_leads(actor, lead_ids, **values) -> int:
    """Bulk edit of simple fields (status, source) on leads in the actor's scope."""
    require(actor, "leads", Action.EDIT)
    unknown = set(values) - BULK_FIELDS
    if unknown:
        raise ValidationError(_("These fields cannot be bulk edited: %(f)s") % {"f": ", ".join(sorted(unknown))})
    status = values.get("status")
    if status is not None and status.code == STATUS_CONVERTED:
        raise ValidationError({"status": [_("A lead becomes converted by converting it to a customer.")]})
    count = 0
    for lead in Lead.objects.visible_to(actor, Action.EDIT).select_for_update().filter(pk__in=list(lead_ids)):
        for name, value in values.items():
            setattr(lead, name, value)
        check_field_permissions(actor, lead)
        lead.save()
        count += 1
    return count


@transaction.atomic
def delete_lead(actor, lead: Lead) -> None:
    require(actor, "leads", Action.DELETE)
    lock_visible(actor, Lead, lead.pk, Action.DELETE).delete()


def delete_leads(actor, lead_ids) -> int:
    """Delete the given leads inside the actor's delete scope (others are skipped, never revealed)."""
    return delete_visible(actor, Lead, lead_ids)


# -- conversion ----------------------------------------------------------------------------------------
def customer_values_from(lead: Lead) -> dict:
    """What a new customer takes from the lead (the convert form starts from these)."""
    return {
        "name": lead.company or lead.name, "phone": lead.phone, "province": lead.province, "city": lead.city,
        "district": lead.district, "remarks": lead.remarks,
    }


def contact_values_from(lead: Lead) -> dict:
    return {"name": lead.name, "title": lead.title, "mobile": lead.mobile, "phone": lead.phone, "email": lead.email}


CUSTOMER_FIELDS = {"name", "short_name", "credit_code", "industry", "source", "level", "status", "province", "city",
                   "district", "address", "website", "phone", "remarks", "owner"}
CONTACT_FIELDS = {"name", "title", "mobile", "phone", "email", "wechat", "remarks"}


def resolve_customer_values(values: dict) -> dict:
    """Ids given for the customer's relations (API) become `<name>_id` (full_clean then checks they exist
    and are active entries of the right list); the owner becomes a user."""
    out = dict(values)
    for name in ("industry", "source", "level", "status"):
        value = out.pop(name, None)
        if value not in (None, ""):
            try:
                out[f"{name}_id"] = int(getattr(value, "pk", value))
            except (TypeError, ValueError):
                raise ValidationError({name: [_("Give the id of a list entry.")]}) from None
    owner = out.get("owner")
    if owner is not None and not hasattr(owner, "pk"):
        user = get_user_model().objects.filter(pk=owner, is_active=True).first() if str(owner).isdigit() else None
        if user is None:
            raise ValidationError({"owner": [_("Choose an active user.")]})
        out["owner"] = user
    return out


def _check_keys(values: dict, allowed: set, field: str) -> None:
    unknown = set(values) - allowed
    if unknown:
        raise ValidationError({field: [_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))}]})


@transaction.atomic
def convert_lead(actor, lead: Lead, *, customer: Customer | None = None, customer_values: dict | None = None,
                 contact_values: dict | None = None, create_contact: bool = True, entry_point: str | None = None,
                 confirm_duplicates: bool = False) -> tuple[Customer, Contact | None]:
    """Turn a lead into a customer plus a contact in one step (转化).

    `customer`: attach to this existing customer instead of creating one — it must be one the actor may edit
    (otherwise the owner has to hand it over: a transfer request). Else a customer is created from the lead
    (`customer_values` override the lead's values) through `save_customer`, owned by the lead's owner when
    the actor may assign customers, else by the actor. The contact is created through `save_contact`.
    The lead is marked converted and stays linked; its follow-ups are attached to the customer.
    Converting a lead twice is refused.
    """
    require(actor, "leads", Action.EDIT)
    lead = lock_visible(actor, Lead, lead.pk, Action.EDIT)
    if lead.converted_at is not None:
        raise ValidationError(
            _("This lead was already converted (to “%(customer)s”).") % {"customer": lead.converted_customer or "—"},
            code="already_converted",
        )
    customer_values = dict(customer_values or {})
    contact_values = dict(contact_values or {})
    _check_keys({k.removesuffix("_id"): v for k, v in customer_values.items()}, CUSTOMER_FIELDS, "customer_values")
    _check_keys(contact_values, CONTACT_FIELDS, "contact_values")
    if customer is not None:
        require(actor, "customers", Action.VIEW)
        customer = Customer.objects.visible_to(actor, Action.EDIT).select_for_update().filter(pk=customer.pk).first()
        if customer is None:
            raise ValidationError(
                {"customer": [_("You cannot add to this customer: it belongs to someone else. Ask its owner or a manager for a transfer first.")]},
                code="customer_not_editable",
            )
    else:
        perms = get_permissions(actor)
        values = {**customer_values_from(lead), **customer_values}
        owner = values.pop("owner", None) or lead.owner or actor
        if owner.pk != actor.pk and not perms.has("customers", Action.TRANSFER):
            owner = actor
        customer = Customer(**values, owner=owner)
        customer = customer_services.save_customer(
            actor, customer, partial=False, entry_point=entry_point, confirm_duplicates=confirm_duplicates,
        )
    contact = None
    if create_contact:
        values = {**contact_values_from(lead), **contact_values}
        contact = Contact(customer=customer, **values)
        if not customer.contacts.filter(is_primary=True).exists():
            contact.is_primary = True
        try:
            contact = customer_services.save_contact(
                actor, contact, partial=False, entry_point=entry_point, confirm_duplicates=confirm_duplicates,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict") or getattr(exc, "duplicate_hits", None):
                raise  # duplicate hits keep their own keys (and the hits the pages show)
            # The convert form names the contact's fields contact_<name>.
            raise ValidationError({
                (f"contact_{k}" if k in CONTACT_FIELDS else k): v for k, v in exc.error_dict.items()
            }) from exc
    now = timezone.now()
    lead.converted_customer = customer
    lead.converted_contact = contact
    lead.converted_at = now
    lead.status = status_by_code(STATUS_CONVERTED) or lead.status
    lead.save()
    # The lead's follow-ups now show on the customer (their lead link stays).
    moved = 0
    for followup in FollowUp.objects.select_for_update().filter(lead=lead, customer__isnull=True):
        followup.customer = customer
        followup.save(update_fields=["customer", "updated_at"])
        moved += 1
    if lead.last_contact_at and (customer.last_contact_at is None or customer.last_contact_at < lead.last_contact_at):
        customer.last_contact_at = lead.last_contact_at
        if customer.next_followup_at is None:
            customer.next_followup_at = lead.next_followup_at
        customer.save(update_fields=["last_contact_at", "next_followup_at", "updated_at"])
    return customer, contact


# -- fair assignment -----------------------------------------------------------------------------------
def eligible_members(rule: AssignmentRule, object_type: str = "lead") -> list:
    """The rule's members (or the team's active users), active and allowed to hold the object, by id."""
    User = get_user_model()
    # Roles prefetched: the permission check below then costs no query per member.
    chosen = list(rule.members.filter(is_active=True).prefetch_related("roles").order_by("pk"))
    if not chosen:
        chosen = list(User.objects.filter(department_id=rule.department_id, is_active=True).prefetch_related("roles").order_by("pk"))
    module = "customers" if object_type == "customer" else "leads"
    return [u for u in chosen if get_permissions(u).has(module, Action.VIEW)]


def member_loads(user_ids, basis: str) -> dict[int, int]:
    """{user id: open records held} computed in the database (one query, correlated counts)."""
    User = get_user_model()
    zero = Value(0, output_field=IntegerField())
    annotations = {}
    if basis in (LoadBasis.LEADS, LoadBasis.BOTH):
        leads = (Lead.objects.filter(open_leads_q(), owner=OuterRef("pk")).order_by()
                 .values("owner").annotate(n=Count("pk")).values("n"))
        annotations["lead_load"] = Coalesce(Subquery(leads, output_field=IntegerField()), zero)
    if basis in (LoadBasis.CUSTOMERS, LoadBasis.BOTH):
        customers = (Customer.objects.filter(owner=OuterRef("pk")).order_by()
                     .values("owner").annotate(n=Count("pk")).values("n"))
        annotations["customer_load"] = Coalesce(Subquery(customers, output_field=IntegerField()), zero)
    rows = User.objects.filter(pk__in=list(user_ids)).annotate(**annotations).values("pk", *annotations)
    return {r["pk"]: sum(r[k] for k in annotations) for r in rows}


def _lock_rule(department) -> AssignmentRule:
    rule = AssignmentRule.objects.select_for_update().filter(department=department).first()
    if rule is None:
        raise ValidationError({"assign_to_department": ValidationError(
            _("No assignment rule is set up for “%(team)s”. An administrator adds one under Settings › Assignment rules.") % {"team": department},
            code="no_assignment_rule",
        )})
    return rule


@transaction.atomic
def pick_owners(department, n: int = 1, *, object_type: str = "lead") -> list:
    """The next `n` owners for new records of `department`, by its assignment rule, fair under concurrency.

    The rule row is locked (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers) until the caller's
    transaction ends, so call this inside the transaction that saves the records: two concurrent callers
    then never get the same round-robin slot, and least-load sees the other's records. Round robin follows
    the member order by id from the last one served; fewest-open-records counts each member's open leads
    and/or customers in the database and hands out one at a time to the least loaded (ties: lower id).
    Used by lead creation ("assign to team"), the importer, pools and handover.
    """
    if n < 1:
        return []
    rule = _lock_rule(department)
    members = eligible_members(rule, object_type)
    if not members:
        raise ValidationError({"assign_to_department": ValidationError(
            _("“%(team)s” has no active member who may take these records.") % {"team": department},
            code="no_eligible_member",
        )})
    picked = []
    if rule.method == AssignmentMethod.LEAST_LOAD:
        loads = member_loads([m.pk for m in members], rule.load_basis)
        for _i in range(n):
            best = min(members, key=lambda m: (loads.get(m.pk, 0), m.pk))
            picked.append(best)
            loads[best.pk] = loads.get(best.pk, 0) + 1
    else:
        ids = [m.pk for m in members]
        last = rule.last_assigned_id
        start = next((i for i, pk in enumerate(ids) if last is not None and pk > last), 0)
        picked = [members[(start + i) % len(members)] for i in range(n)]
    rule.last_assigned = picked[-1]
    rule.save(update_fields=["last_assigned", "updated_at"])
    return picked


@transaction.atomic
def save_assignment_rule(actor, rule: AssignmentRule, *, members=None) -> AssignmentRule:
    require(actor, "settings", Action.EDIT)
    if rule.pk:
        current = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
        if not hasattr(rule, "_changelog_snapshot"):
            rule._changelog_snapshot = current._changelog_snapshot
    rule.full_clean()
    rule.save()
    if members is not None:
        rule.members.set(members)
    return rule


@transaction.atomic
def delete_assignment_rule(actor, rule: AssignmentRule) -> None:
    require(actor, "settings", Action.EDIT)
    AssignmentRule.objects.select_for_update().get(pk=rule.pk).delete()
