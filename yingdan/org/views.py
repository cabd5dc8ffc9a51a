"""Organisation pages: users, the department tree, roles with their permission matrix.

Thin views over the generic machinery; every write goes through yingdan.org.services, every read starts from
`visible_to()` (users module for users, departments for departments, roles for roles).
"""

from __future__ import annotations

import datetime

from django.apps import apps
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from yingdan.core.choices import Action, DataScope, FieldAccess
from yingdan.core.models.base import OwnedModel
from yingdan.core.permissions import EffectivePermissions, all_modules, compute, get_permissions
from yingdan.core.views import generic

from . import services
from .filtersets import DepartmentFilterSet, RoleFilterSet, UserFilterSet
from .forms import (
    DepartmentForm,
    RoleForm,
    UserAddRoleForm,
    UserForm,
    UserPasswordForm,
    UserSetDepartmentForm,
    module_fields,
)
from .models import Department, Role, User
from .tables import DepartmentTable, RoleTable, UserTable

EDIT = Action.EDIT


def permission_summary(perms, *, with_fields: bool = True) -> list[dict]:
    """One row per registered module: granted actions, data scope and restricted fields."""
    rows = []
    scope_labels = dict(DataScope.choices)
    for module in all_modules():
        actions = [a for a in module.actions if perms.has(module.key, a)]
        field_map = perms.field_map(module.key)
        fields = []
        if with_fields and field_map:
            labels = dict(module_fields(module.key))
            fields = [(labels.get(name, name), FieldAccess(level).label) for name, level in sorted(field_map.items()) if level in FieldAccess.values]
        rows.append({
            "module": module,
            "actions": [{"key": a, "label": Action(a).label, "granted": a in actions} for a in module.actions],
            "any": bool(actions),
            "scope": scope_labels.get(perms.scope(module.key), perms.scope(module.key)),
            "fields": fields,
        })
    return rows


class ReadableOverviewMixin:
    """Dates and times on the overview as “2024-05-01 14:30” (local time), not their repr."""

    def overview_sections(self, obj):
        sections = super().overview_sections(obj)
        for _title, rows in sections:
            for row in rows:
                value = row.get("value")
                if isinstance(value, datetime.datetime):
                    row["value"] = formats.date_format(timezone.localtime(value), "Y-m-d H:i")
                elif isinstance(value, datetime.date):
                    row["value"] = formats.date_format(value, "Y-m-d")
        return sections


# -- users ---------------------------------------------------------------------------------------------
class UserListView(generic.ObjectListView):
    model = User
    queryset = User.objects.select_related("department").prefetch_related("roles")
    filterset = UserFilterSet
    table = UserTable
    add_url_name = "org:user_add"
    bulk_actions = [
        ("org:user_bulk_department", gettext_lazy("Set department"), EDIT),
        ("org:user_bulk_role", gettext_lazy("Add role"), EDIT),
        ("org:user_bulk_deactivate", gettext_lazy("Deactivate"), EDIT),
    ]


class UserDetailView(ReadableOverviewMixin, generic.ObjectDetailView):
    model = User
    queryset = User.objects.select_related("department", "department__manager").prefetch_related("roles")
    template_name = "org/user_detail.html"
    detail_sections = [
        (gettext_lazy("Profile"), ["name", "username", "mobile", "email", "title", "language"]),
        (gettext_lazy("Account"), ["is_active", "date_joined", "last_login", "deactivated_at"]),
    ]
    edit_url_name = "org:user_edit"

    def get_tabs(self, obj):
        tabs = super().get_tabs(obj)
        tabs[0]["template"] = "org/_user_overview.html"
        return tabs

    def overview_sections(self, obj):
        sections = super().overview_sections(obj)
        dept = obj.department
        rows = [
            {"label": _("Main department"), "value": dept, "name": "department"},
            {"label": _("Department path"), "value": dept.full_name if dept else "", "name": "department_path"},
            {"label": _("Department manager"), "value": dept.manager if dept else "", "name": "department_manager"},
            {"label": _("Roles"), "value": "、".join(obj.role_names), "name": "roles"},
        ]
        sections.insert(1, (_("Organisation"), rows))
        return sections

    def extra_context(self, obj):
        actor = self.request.user
        can_edit = get_permissions(actor).has("users", EDIT)
        effective = compute(obj)
        return {
            "edit_url": self.get_edit_url(obj),
            "password_url": reverse("org:user_password", args=[obj.pk]) if can_edit else None,
            "status_url": (reverse("org:user_deactivate" if obj.is_active else "org:user_activate", args=[obj.pk]) if can_edit and obj.pk != actor.pk else None),
            "permission_rows": permission_summary(effective),
            "is_admin_user": effective.is_admin,
            "roles": list(obj.roles.all()),
        }


class UserEditView(generic.ObjectEditView):
    model = User
    form_class = UserForm
    queryset = User.objects.prefetch_related("roles")
    template_name = "org/user_edit.html"

    def get_initial(self):
        return {k: v for k, v in self.request.GET.items() if k == "department"}

    def save(self, form):
        actor = self.request.user
        user = form.instance
        is_new = user.pk is None
        want_active = user.is_active
        try:
            with transaction.atomic():
                if is_new:
                    user.deactivated_at = None if want_active else timezone.now()
                else:
                    # Activation changes go through their own services (token revocation, timestamps).
                    user.is_active = User.objects.filter(pk=user.pk).values_list("is_active", flat=True).get()
                password = form.cleaned_data.get("password1") or None
                user = services.save_user(actor, user, roles=form.cleaned_data.get("roles"), password=password)
                if not is_new and want_active != user.is_active:
                    try:
                        (services.activate_user if want_active else services.deactivate_user)(actor, user)
                    except ValidationError as exc:
                        if hasattr(exc, "error_dict"):
                            raise
                        raise ValidationError({"is_active": exc.messages}) from exc
        except ValidationError:
            if is_new:
                form.instance.pk = None
            form.instance.is_active = want_active
            raise
        return user


class UserStatusView(generic.ObjectPermissionMixin, View):
    """Deactivate or re-activate a user, after a confirmation page (POST does it)."""

    model = User
    action = EDIT
    activate = False
    template_name = "org/user_status.html"

    def get(self, request, pk):
        obj = self.get_object()
        return render(request, self.template_name, self.context(obj))

    def context(self, obj):
        return {**self.model_context(), "object": obj, "activate": self.activate, "owned": owned_records(obj)}

    def post(self, request, pk):
        obj = self.get_object()
        service = services.activate_user if self.activate else services.deactivate_user
        try:
            service(request.user, obj)
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", [str(exc)]):
                messages.error(request, message)
            return render(request, self.template_name, {**self.context(obj), "error": True}, status=400)
        if self.activate:
            messages.success(request, _("“%(user)s” can sign in again.") % {"user": obj})
        else:
            messages.success(request, _("“%(user)s” was deactivated. Their records were kept.") % {"user": obj})
        return HttpResponseRedirect(obj.get_absolute_url())


def owned_records(user) -> list[tuple[str, int]]:
    """(verbose name plural, count) of the records `user` owns, for the deactivation hint."""
    out = []
    for model in apps.get_models():
        if issubclass(model, OwnedModel) and not model._meta.abstract:
            n = model._default_manager.filter(owner=user).count()
            if n:
                out.append((model._meta.verbose_name_plural, n))
    return out


class UserPasswordView(generic.ObjectPermissionMixin, View):
    """An administrator sets a new password for a user (Django's password validators apply)."""

    model = User
    action = EDIT
    template_name = "org/user_password.html"

    def get(self, request, pk):
        obj = self.get_object()
        return self.render_form(obj, UserPasswordForm(target=obj))

    def post(self, request, pk):
        obj = self.get_object()
        form = UserPasswordForm(request.POST, target=obj)
        if form.is_valid():
            try:
                services.save_user(request.user, obj, password=form.cleaned_data["new_password1"])
            except ValidationError as exc:
                generic.apply_validation_error(form, exc)
            else:
                if obj.pk == request.user.pk:
                    update_session_auth_hash(request, obj)
                messages.success(request, _("The password of “%(user)s” was changed.") % {"user": obj})
                return HttpResponseRedirect(obj.get_absolute_url())
        return self.render_form(obj, form, status=400)

    def render_form(self, obj, form, status=200):
        return render(self.request, self.template_name, {**self.model_context(), "object": obj, "form": form}, status=status)


class UserBulkDepartmentView(generic.BulkActionView):
    model = User
    action = EDIT
    form_class = UserSetDepartmentForm
    title = gettext_lazy("Set department")
    success_url_name = "org:user_list"

    @transaction.atomic
    def apply(self, ids, form):
        department = form.cleaned_data["department"]
        users = list(User.objects.filter(pk__in=ids))
        for user in users:
            user.department = department
            services.save_user(self.request.user, user)
        return len(users)


class UserBulkRoleView(generic.BulkActionView):
    model = User
    action = EDIT
    form_class = UserAddRoleForm
    title = gettext_lazy("Add role")
    success_url_name = "org:user_list"

    @transaction.atomic
    def apply(self, ids, form):
        role = form.cleaned_data["role"]
        users = list(User.objects.filter(pk__in=ids).prefetch_related("roles"))
        changed = 0
        for user in users:
            roles = list(user.roles.all())
            if role not in roles:
                services.save_user(self.request.user, user, roles=[*roles, role])
                changed += 1
        return changed


class UserBulkDeactivateView(generic.BulkActionView):
    model = User
    action = EDIT
    title = gettext_lazy("Deactivate users")
    success_url_name = "org:user_list"
    template_name = "org/user_bulk_deactivate.html"

    @transaction.atomic
    def apply(self, ids, form):
        users = list(User.objects.filter(pk__in=ids, is_active=True))
        for user in users:
            services.deactivate_user(self.request.user, user)
        return len(users)


# -- departments ---------------------------------------------------------------------------------------
def with_member_count(qs):
    return qs.annotate(member_count=Count("members", filter=Q(members__is_active=True), distinct=True))


class DepartmentTreeView(generic.ObjectPermissionMixin, View):
    """The list page of departments: the visible part of the tree, indented and expandable, with managers
    and member counts (own and including sub-departments)."""

    model = Department
    template_name = "org/department_tree.html"

    def get(self, request):
        departments = list(with_member_count(self.scoped_queryset()).select_related("manager"))
        by_id = {d.pk: d for d in departments}
        children: dict[int | None, list] = {}
        for d in departments:
            parent = d.parent_id if d.parent_id in by_id else None
            children.setdefault(parent, []).append(d)
        for items in children.values():
            items.sort(key=lambda d: (d.order, d.name))
        nodes = []

        def walk(dept, level):
            node = {"dept": dept, "level": level, "indent": level * 1.25, "sub_indent": level * 1.25 + 2.6, "children": len(children.get(dept.pk, [])), "total": dept.member_count}
            nodes.append(node)
            for child in children.get(dept.pk, []):
                node["total"] += walk(child, level + 1)
            return node["total"]

        for root in children.get(None, []):
            walk(root, 0)
        perms = get_permissions(request.user)
        context = {
            **self.model_context(),
            "nodes": nodes,
            "add_url": reverse("org:department_add") if perms.has("departments", Action.CREATE) else None,
            "can_add": perms.has("departments", Action.CREATE),
            "can_edit": perms.has("departments", EDIT),
            "can_view_users": perms.has("users", Action.VIEW),
            "total_members": sum(n["dept"].member_count for n in nodes),
        }
        return render(request, self.template_name, context)


class DepartmentListView(generic.ObjectListView):
    """The flat, filterable list of departments (the tree is the main list page)."""

    model = Department
    queryset = with_member_count(Department.objects.select_related("parent", "manager")).order_by("path")
    filterset = DepartmentFilterSet
    table = DepartmentTable
    add_url_name = "org:department_add"
    template_name = "org/department_list.html"


class DepartmentDetailView(ReadableOverviewMixin, generic.ObjectDetailView):
    model = Department
    queryset = Department.objects.select_related("parent", "manager")
    template_name = "org/department_detail.html"
    detail_sections = [(gettext_lazy("Department"), ["name", "parent", "manager", "order", "is_active", "created_at"])]
    tabs = [
        ("members", gettext_lazy("Members"), "org/_department_members.html"),
        ("children", gettext_lazy("Sub-departments"), "org/_department_children.html"),
    ]
    edit_url_name = "org:department_edit"

    def overview_sections(self, obj):
        sections = super().overview_sections(obj)
        if sections:
            sections[0][1].insert(1, {"label": _("Full path"), "value": obj.full_name, "name": "path"})
        return sections

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": reverse("org:department_delete", args=[obj.pk]) if perms.has("departments", Action.DELETE) else None,
            "add_child_url": f"{reverse('org:department_add')}?parent={obj.pk}" if perms.has("departments", Action.CREATE) else None,
            "member_count": obj.members.filter(is_active=True).count(),
            "child_count": obj.children.count(),
            "ancestors": obj.ancestors(),
        }

    def tab_members(self, obj):
        if not get_permissions(self.request.user).has("users", Action.VIEW):
            return {"members": None}
        members = (User.objects.visible_to(self.request.user).filter(department=obj)
                   .prefetch_related("roles").order_by("-is_active", "name")[:500])
        return {"members": members}

    def tab_children(self, obj):
        children = with_member_count(Department.objects.visible_to(self.request.user).filter(parent=obj).select_related("manager"))
        return {"children": children.order_by("order", "name")}


class DepartmentEditView(generic.ObjectEditView):
    model = Department
    form_class = DepartmentForm

    def save(self, form):
        return services.save_department(self.request.user, form.instance)


class DepartmentDeleteView(generic.ObjectDeleteView):
    model = Department
    success_url_name = "org:department_list"
    template_name = "org/department_delete.html"

    def get(self, request, *args, **kwargs):
        obj = self.get_object()
        context = {
            **self.model_context(), "object": obj,
            "member_count": obj.members.count(), "child_count": obj.children.count(),
        }
        return render(request, self.template_name, context)

    def delete(self, obj):
        services.delete_department(self.request.user, obj)


# -- roles ---------------------------------------------------------------------------------------------
class RoleListView(generic.ObjectListView):
    model = Role
    queryset = Role.objects.annotate(user_count=Count("users", distinct=True)).order_by("id")
    filterset = RoleFilterSet
    table = RoleTable
    add_url_name = "org:role_add"


class RoleDetailView(ReadableOverviewMixin, generic.ObjectDetailView):
    model = Role
    template_name = "org/role_detail.html"
    detail_sections = [(gettext_lazy("Role"), ["name", "code", "description", "is_builtin", "is_admin", "created_at"])]
    tabs = [("users", gettext_lazy("Users"), "org/_role_users.html")]
    edit_url_name = "org:role_edit"

    def get_tabs(self, obj):
        tabs = super().get_tabs(obj)
        tabs[0]["template"] = "org/_role_overview.html"
        return tabs

    def extra_context(self, obj):
        perms = get_permissions(self.request.user)
        role_perms = EffectivePermissions(is_admin=obj.is_admin)
        for module, grant in (obj.permissions or {}).items():
            role_perms.actions[module] = set(grant.get("actions", []))
            role_perms.scopes[module] = grant.get("scope", DataScope.OWN)
        role_perms.fields = {m: dict(f) for m, f in (obj.field_permissions or {}).items()}
        return {
            "edit_url": self.get_edit_url(obj),
            "delete_url": (reverse("org:role_delete", args=[obj.pk]) if perms.has("roles", Action.DELETE) and not obj.is_builtin else None),
            "permission_rows": permission_summary(role_perms),
            "user_count": obj.users.count(),
        }

    def tab_users(self, obj):
        if not get_permissions(self.request.user).has("users", Action.VIEW):
            return {"members": None}
        members = User.objects.visible_to(self.request.user).filter(roles=obj).select_related("department").order_by("-is_active", "name")[:500]
        return {"members": members}


class RoleEditView(generic.ObjectEditView):
    model = Role
    form_class = RoleForm
    template_name = "org/role_edit.html"

    def get_initial(self):
        return {}

    def save(self, form):
        return services.save_role(self.request.user, form.instance)


class RoleDeleteView(generic.ObjectDeleteView):
    model = Role
    success_url_name = "org:role_list"

    def delete(self, obj):
        services.delete_role(self.request.user, obj)
