"""Helpers every domain service uses: permission and scope checks inside the transaction, field
permissions on writes, row locking that works on both databases."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import changelog
from .choices import Action, FieldAccess
from .exceptions import ObjectNotVisible
from .permissions import get_permissions

audit = logging.getLogger("yingdan.audit")


def require(actor, module: str, action: str) -> None:
    if not get_permissions(actor).has(module, action):
        raise PermissionDenied(_("You do not have permission to do this."))


def lock_visible(actor, model, pk, action: str = Action.EDIT):
    """Re-read the row inside the transaction, locked (PostgreSQL) and within the actor's scope for
    `action`; out of scope is a 404. On SQLite, IMMEDIATE transactions already serialise writers."""
    obj = model.objects.visible_to(actor, action).select_for_update().filter(pk=pk).first()
    if obj is None:
        raise ObjectNotVisible()
    return obj


def ensure_visible(actor, obj, action: str = Action.VIEW) -> None:
    """After a write: the object must still be inside the actor's scope, or the transaction rolls back."""
    if not type(obj).objects.visible_to(actor, action).filter(pk=obj.pk).exists():
        raise PermissionDenied(_("After this change the record would be outside your data scope."))


@transaction.atomic
def delete_visible(actor, model, ids) -> int:
    """Bulk delete: each row inside the actor's delete scope is deleted (one change-log row each); ids
    outside the scope are skipped, never revealed."""
    require(actor, model.permission_module, Action.DELETE)
    count = 0
    for obj in model.objects.visible_to(actor, Action.DELETE).select_for_update().filter(pk__in=list(ids)):
        obj.delete()
        count += 1
    return count


def changed_fields(obj) -> set[str]:
    before = getattr(obj, "_changelog_snapshot", None)
    after = changelog.snapshot(obj)
    if before is None:
        return {k for k, v in after.items() if v not in (None, "", [], {}, False)}
    return set(changelog.diff(before, after))


def check_field_permissions(actor, obj, *, allowed: set[str] = frozenset()) -> None:
    """Refuse writes to fields that are read-only or hidden for the actor (custom fields as cf_KEY)."""
    field_map = get_permissions(actor).field_map(type(obj).permission_module)
    if not field_map:
        return
    errors = {}
    for name in changed_fields(obj) - set(allowed):
        level = field_map.get(name)
        if level in (FieldAccess.READ, FieldAccess.HIDDEN):
            errors[name] = [_("You may not change this field.")]
    if errors:
        raise ValidationError(errors)


# -- settings: custom fields and lists ----------------------------------------------------------------
@transaction.atomic
def save_custom_field(actor, definition):
    """Create or update a custom-field definition. Key, object and type are fixed once created; options are
    deactivated, never removed (stored values stay readable)."""
    from . import registry

    require(actor, "settings", Action.EDIT)
    if definition.object_type not in registry.custom_field_models:
        raise ValidationError({"object_type": [_("Custom fields cannot be added to this object.")]})
    model = registry.custom_field_models[definition.object_type]
    reserved = {f.name for f in model._meta.get_fields()}
    if definition.name in reserved:
        raise ValidationError({"name": [_("“%(key)s” is already a built-in field of this object.") % {"key": definition.name}]})
    definition.full_clean()
    definition.save()
    return definition


@transaction.atomic
def set_custom_field_active(actor, definition, active: bool):
    require(actor, "settings", Action.EDIT)
    definition.is_active = active
    definition.save(update_fields=["is_active", "updated_at"])
    return definition


@transaction.atomic
def save_lookup(actor, lookup):
    from . import registry

    require(actor, "settings", Action.EDIT)
    if lookup.kind not in registry.lookup_kinds:
        raise ValidationError({"kind": [_("Unknown list.")]})
    lookup.full_clean()
    lookup.save()
    if lookup.is_default:
        for other in type(lookup).objects.filter(kind=lookup.kind, is_default=True).exclude(pk=lookup.pk):
            other.is_default = False
            other.save(update_fields=["is_default"])
    return lookup


# -- saved list views (per-user UI state; the list pages and /api/v1/saved-views/) ------------------------
def save_view(actor, *, list_key: str, name: str, query: str = "", columns=(), is_default: bool = False, view=None):
    """Save a list's filters and columns under a name (replacing the actor's view of that name on that list, or
    updating `view`). At most one default per list: saving a default clears the others."""
    from .models import SavedView

    list_key, name = (list_key or "").strip()[:100], (name or "").strip()[:100]
    errors = {}
    if not list_key:
        errors["list_key"] = [_("This field is required.")]
    if not name:
        errors["name"] = [_("Give the view a name.")]
    if errors:
        raise ValidationError(errors)
    # page/view/columns are state of one visit, not filters
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=True) if k not in ("page", "view", "columns")]
    values = {"query": urlencode(pairs)[:2000], "columns": [str(c)[:100] for c in columns if c][:50], "is_default": bool(is_default)}
    with transaction.atomic():
        clash = SavedView.objects.filter(user=actor, list_key=list_key, name=name)
        if view is not None:
            if view.user_id != actor.pk:
                raise ObjectNotVisible()
            if clash.exclude(pk=view.pk).exists():
                raise ValidationError({"name": [_("You already have a view with this name.")]})
            view.list_key, view.name = list_key, name
            for field, value in values.items():
                setattr(view, field, value)
            view.save()
        else:
            view, _created = SavedView.objects.update_or_create(user=actor, list_key=list_key, name=name, defaults=values)
        if view.is_default:
            SavedView.objects.filter(user=actor, list_key=list_key, is_default=True).exclude(pk=view.pk).update(is_default=False)
    audit.info("saved view saved", extra={"actor": actor.pk, "view": view.pk, "list": list_key})
    return view


def delete_view(actor, view) -> None:
    if view.user_id != actor.pk:
        raise ObjectNotVisible()
    pk = view.pk
    view.delete()
    audit.info("saved view deleted", extra={"actor": actor.pk, "view": pk})
