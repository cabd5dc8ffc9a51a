"""Base classes of every business object.

`ScopedQuerySet.visible_to(user, action)` is the ONE place where row-level data scope is enforced. Generic
views, API viewsets, search, exports and counts all start from it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import Action, DataScope
from ..permissions import get_permissions


class Unindexed(models.Func):
    """`+column` in SQL: the same value, but the planner will not use an index for it."""

    template = "+%(expressions)s"


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user, action: str = Action.VIEW):
        """Rows `user` may perform `action` on: none without the module permission, else the role's scope."""
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        perms = get_permissions(user)
        module = self.model.permission_module
        if not perms.has(module, action):
            return self.none()
        scope = perms.scope(module)
        if scope == DataScope.ALL:
            return self
        apply_scope = getattr(self.model, "apply_scope", None)
        if apply_scope is not None:
            return apply_scope(self, user, scope)
        return self.filter(self.model.scope_q(user, scope))


class BusinessQuerySet(ScopedQuerySet):
    pass


def department_ids_for(user, scope: str) -> list[int]:
    """Department ids a scope covers for `user` (empty for 'own')."""
    if not user.department_id or scope == DataScope.OWN:
        return []
    if scope == DataScope.DEPARTMENT:
        return [user.department_id]
    cached = getattr(user, "_yingdan_dept_tree", None)
    if cached is None:
        cached = user.department.descendant_ids(include_self=True)
        user._yingdan_dept_tree = cached
    return cached


class ChangeLoggedModel(models.Model):
    """Records every create/update/delete in the change log (core.signals). Keeps a snapshot of the
    values as loaded, so an update stores field-level before/after."""

    # Fields never shown in change diffs (derived or secret columns).
    changelog_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Keep the loaded values as they are (cheap: lists load hundreds of rows); the snapshot used for
        # diffs is built from them only when the object is saved or deleted.
        instance.__dict__["_changelog_loaded"] = dict(zip(field_names, values, strict=False))
        return instance

    @property
    def _changelog_snapshot(self) -> dict:
        if "_changelog_snapshot_value" in self.__dict__:
            return self.__dict__["_changelog_snapshot_value"]
        loaded = self.__dict__.get("_changelog_loaded")
        if loaded is None:
            raise AttributeError("_changelog_snapshot")
        from ..changelog import snapshot_values

        value = snapshot_values(type(self), loaded)
        self.__dict__["_changelog_snapshot_value"] = value
        return value

    @_changelog_snapshot.setter
    def _changelog_snapshot(self, value: dict) -> None:
        self.__dict__["_changelog_snapshot_value"] = value


class BusinessModel(ChangeLoggedModel):
    """Timestamps, creator, and the change log (recorded by core.signals for every subclass)."""

    permission_module: str = ""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = BusinessQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, user, scope: str, prefix: str = "") -> Q:
        """The filter for a non-'all' scope. Owned models override; unowned ones see all or nothing."""
        return Q()


class OwnedModel(BusinessModel):
    """A record with an owner (负责人), the owner's department (kept in step by the services) and
    collaborators. Data scopes filter on these indexed columns."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    department = models.ForeignKey(
        "org.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True

    @classmethod
    def apply_scope(cls, queryset, user, scope: str):
        """Department scopes usually cover a large share of the table. On SQLite the planner would then
        collect every matching row through the owner/department indexes and sort them all before taking a
        page; marking those two columns as not indexable (unary +) makes it walk a narrow index in id order
        instead and stop after one page (the model declares a covering index on (id, department, owner))."""
        if scope != DataScope.OWN and connections[queryset.db].vendor == "sqlite":
            queryset = queryset.alias(
                _scope_owner=Unindexed("owner_id", output_field=models.BigIntegerField()),
                _scope_department=Unindexed("department_id", output_field=models.BigIntegerField()),
            )
            return queryset.filter(cls.scope_q(user, scope, owner_field="_scope_owner", department_field="_scope_department"))
        return queryset.filter(cls.scope_q(user, scope))

    @classmethod
    def scope_q(cls, user, scope: str, prefix: str = "", *, owner_field: str = "owner_id", department_field: str = "department_id") -> Q:
        q = Q(**{f"{prefix}{owner_field}": user.pk})
        collaborators = cls._meta.get_field("collaborators") if cls._has_collaborators() else None
        if collaborators is not None:
            through = collaborators.remote_field.through
            source = collaborators.m2m_field_name()
            target = collaborators.m2m_reverse_field_name()
            q |= Q(**{f"{prefix}pk__in": through.objects.filter(**{f"{target}_id": user.pk}).values(f"{source}_id")})
        depts = department_ids_for(user, scope)
        if depts:
            q |= Q(**{f"{prefix}{department_field}__in": depts})
        return q

    @classmethod
    def _has_collaborators(cls) -> bool:
        try:
            cls._meta.get_field("collaborators")
        except Exception:
            return False
        return True

    def sync_department(self) -> None:
        """The record's department follows its owner's main department."""
        self.department_id = self.owner.department_id if self.owner_id and self.owner else None
