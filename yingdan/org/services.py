"""Writes to users, departments and roles (web, API and commands all call these)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core import registry
from yingdan.core.choices import FIELD_ACCESS_RANK, SCOPE_RANK, Action
from yingdan.core.permissions import clear_cache
from yingdan.core.services import lock_visible, require

from .models import Department, Role, User

audit = logging.getLogger("yingdan.audit")


# -- users -------------------------------------------------------------------------------------------
@transaction.atomic
def save_user(actor, user: User, *, roles=None, password: str | None = None) -> User:
    is_new = user.pk is None
    require(actor, "users", Action.CREATE if is_new else Action.EDIT)
    if not is_new:
        lock_visible(actor, User, user.pk, Action.EDIT)
    if user.is_superuser and not actor.is_superuser:
        raise ValidationError(_("Only a superuser may edit a superuser."))
    if not is_new:
        _guard_admin_account(actor, user)
    if password:
        user.set_password(password)
    elif is_new:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if roles is not None:
        roles = list(roles)
        if any(r.is_admin for r in roles) and not _is_admin(actor):
            raise ValidationError({"roles": [_("Only an administrator may grant the administrator role.")]})
        user.roles.set(roles)
        clear_cache(user)
    audit.info("user saved", extra={"actor": actor.pk, "user": user.pk, "new": is_new})
    return user


def _is_admin(user) -> bool:
    return user.is_superuser or user.roles.filter(is_admin=True).exists()


def _guard_admin_account(actor, user: User) -> None:
    """Only administrators change (or reset the password of, or deactivate) an administrator's account:
    otherwise anyone with the users edit permission could take over an administrator."""
    if not _is_admin(actor) and (user.is_superuser or user.roles.filter(is_admin=True).exists()):
        raise ValidationError(_("Only an administrator may change an administrator's account."))


@transaction.atomic
def deactivate_user(actor, user: User) -> User:
    """Deactivate a user (e.g. a rep who leaves). Nothing they own is deleted or reassigned here; the
    handover (a later issue) moves their customers."""
    require(actor, "users", Action.EDIT)
    user = lock_visible(actor, User, user.pk, Action.EDIT)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    _guard_admin_account(actor, user)
    user.is_active = False
    user.deactivated_at = timezone.now()
    user.save(update_fields=["is_active", "deactivated_at"])
    from .models import ApiToken

    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    return user


@transaction.atomic
def activate_user(actor, user: User) -> User:
    require(actor, "users", Action.EDIT)
    user = lock_visible(actor, User, user.pk, Action.EDIT)
    _guard_admin_account(actor, user)
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    return user


# -- departments -------------------------------------------------------------------------------------
def _recompute_paths(dept: Department) -> None:
    parent_path = dept.parent.path if dept.parent_id else "/"
    depth = dept.parent.depth + 1 if dept.parent_id else 0
    old_path = dept.path
    new_path = f"{parent_path}{dept.pk}/"
    if old_path == new_path and dept.depth == depth:
        return
    Department.objects.filter(pk=dept.pk).update(path=new_path, depth=depth)
    if old_path and old_path != "/":
        for child in Department.objects.filter(path__startswith=old_path).exclude(pk=dept.pk):
            suffix = child.path[len(old_path):]
            child_depth = depth + suffix.strip("/").count("/") + 1
            Department.objects.filter(pk=child.pk).update(path=new_path + suffix, depth=child_depth)
    dept.path, dept.depth = new_path, depth


@transaction.atomic
def save_department(actor, dept: Department) -> Department:
    is_new = dept.pk is None
    require(actor, "departments", Action.CREATE if is_new else Action.EDIT)
    if not is_new:
        current = lock_visible(actor, Department, dept.pk, Action.EDIT)
        dept.path = current.path
        if dept.parent_id and (
            dept.parent_id == dept.pk or Department.objects.filter(pk=dept.parent_id, path__startswith=current.path).exists()
        ):
            raise ValidationError({"parent": [_("A department cannot be moved under itself or one of its sub-departments.")]})
    if dept.parent_id and not Department.objects.filter(pk=dept.parent_id).exists():
        raise ValidationError({"parent": [_("Unknown department.")]})
    dept.full_clean(exclude=["path", "depth"])
    dept.save()
    if dept.parent_id:
        dept.parent = Department.objects.get(pk=dept.parent_id)
    _recompute_paths(dept)
    return dept


@transaction.atomic
def delete_department(actor, dept: Department) -> None:
    require(actor, "departments", Action.DELETE)
    dept = lock_visible(actor, Department, dept.pk, Action.DELETE)
    if dept.children.exists():
        raise ValidationError(_("Move or delete its sub-departments first."))
    if dept.members.exists():
        raise ValidationError(_("Move its members to another department first."))
    dept.delete()


# -- roles -------------------------------------------------------------------------------------------
def validate_role_permissions(permissions: dict, field_permissions: dict) -> None:
    errors = []
    if not isinstance(permissions, dict):
        raise ValidationError({"permissions": [_("Must be an object keyed by module.")]})
    for module, grant in permissions.items():
        spec = registry.modules.get(module)
        if spec is None:
            errors.append(_("Unknown module “%(m)s”.") % {"m": module})
            continue
        if not isinstance(grant, dict):
            errors.append(_("Module “%(m)s”: must be an object with actions and scope.") % {"m": module})
            continue
        for action in grant.get("actions", []):
            if action not in spec.actions:
                errors.append(_("Module “%(m)s”: unknown action “%(a)s”.") % {"m": module, "a": action})
        if grant.get("scope", "own") not in SCOPE_RANK:
            errors.append(_("Module “%(m)s”: unknown data scope “%(s)s”.") % {"m": module, "s": grant.get("scope")})
    if errors:
        raise ValidationError({"permissions": errors})
    if not isinstance(field_permissions, dict):
        raise ValidationError({"field_permissions": [_("Must be an object keyed by module.")]})
    for module, fields in field_permissions.items():
        if module not in registry.modules or not isinstance(fields, dict):
            errors.append(_("Unknown module “%(m)s”.") % {"m": module})
            continue
        for name, level in fields.items():
            if level not in FIELD_ACCESS_RANK:
                errors.append(_("Field “%(f)s”: unknown access level “%(l)s”.") % {"f": name, "l": level})
    if errors:
        raise ValidationError({"field_permissions": errors})


@transaction.atomic
def save_role(actor, role: Role) -> Role:
    is_new = role.pk is None
    require(actor, "roles", Action.CREATE if is_new else Action.EDIT)
    if not is_new:
        lock_visible(actor, Role, role.pk, Action.EDIT)
    if role.is_admin and not _is_admin(actor):
        raise ValidationError({"is_admin": [_("Only an administrator may create administrator roles.")]})
    validate_role_permissions(role.permissions or {}, role.field_permissions or {})
    role.full_clean()
    role.save()
    return role


@transaction.atomic
def delete_role(actor, role: Role) -> None:
    require(actor, "roles", Action.DELETE)
    role = lock_visible(actor, Role, role.pk, Action.DELETE)
    if role.is_builtin:
        raise ValidationError(_("Built-in roles cannot be deleted."))
    if role.users.exists():
        raise ValidationError(_("This role is still assigned to %(n)d user(s).") % {"n": role.users.count()})
    role.delete()
