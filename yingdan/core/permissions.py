"""Effective permissions of a user: the union of their roles.

A role grants, per module, a set of actions and a data scope, and per field an access level. With several
roles the user gets the union of actions, the widest scope and the most permissive field access.
Superusers and roles flagged `is_admin` get everything. The result is computed once per user object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import registry
from .choices import FIELD_ACCESS_RANK, SCOPE_RANK, DataScope, FieldAccess


@dataclass
class EffectivePermissions:
    is_admin: bool = False
    actions: dict[str, set[str]] = field(default_factory=dict)
    scopes: dict[str, str] = field(default_factory=dict)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)

    def has(self, module: str, action: str) -> bool:
        if self.is_admin:
            return True
        return action in self.actions.get(module, ())

    def scope(self, module: str) -> str:
        if self.is_admin:
            return DataScope.ALL
        return self.scopes.get(module, DataScope.OWN)

    def field_access(self, module: str, field_name: str) -> str:
        if self.is_admin:
            return FieldAccess.EDIT
        return self.fields.get(module, {}).get(field_name, FieldAccess.EDIT)

    def field_map(self, module: str) -> dict[str, str]:
        """Fields that are not plainly editable for this user: {name: 'read'|'hidden'}."""
        if self.is_admin:
            return {}
        return dict(self.fields.get(module, {}))


def compute(user) -> EffectivePermissions:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return EffectivePermissions()
    if user.is_superuser:
        return EffectivePermissions(is_admin=True)
    perms = EffectivePermissions()
    roles = list(user.roles.all())
    if any(role.is_admin for role in roles):
        return EffectivePermissions(is_admin=True)
    field_levels: dict[str, dict[str, list[str]]] = {}
    for role in roles:
        for module, grant in (role.permissions or {}).items():
            actions = set(grant.get("actions", []))
            perms.actions.setdefault(module, set()).update(actions)
            scope = grant.get("scope", DataScope.OWN)
            if scope not in SCOPE_RANK:
                scope = DataScope.OWN
            current = perms.scopes.get(module)
            if current is None or SCOPE_RANK[scope] > SCOPE_RANK[current]:
                perms.scopes[module] = scope
        for module, fields in (role.field_permissions or {}).items():
            for name, level in fields.items():
                field_levels.setdefault(module, {}).setdefault(name, []).append(level)
    # A field is restricted only if every role restricts it; the most permissive level wins.
    for module, fields in field_levels.items():
        for name, levels in fields.items():
            roles_with_module = sum(1 for r in roles if module in (r.field_permissions or {}))
            if len(levels) < len(roles) or roles_with_module < len(roles):
                continue  # some role leaves the field editable
            best = max(levels, key=lambda lv: FIELD_ACCESS_RANK.get(lv, 2))
            if best != FieldAccess.EDIT:
                perms.fields.setdefault(module, {})[name] = best
    return perms


def get_permissions(user) -> EffectivePermissions:
    cached = getattr(user, "_yingdan_perms", None)
    if cached is None:
        cached = compute(user)
        if user is not None:
            try:
                user._yingdan_perms = cached
            except AttributeError:  # AnonymousUser has __slots__-like behaviour in some versions
                pass
    return cached


def clear_cache(user) -> None:
    if hasattr(user, "_yingdan_perms"):
        del user._yingdan_perms


def has_perm(user, module: str, action: str) -> bool:
    return get_permissions(user).has(module, action)


def all_modules():
    return sorted(registry.modules.values(), key=lambda m: (m.order, m.key))
