"""List tables of the organisation pages. Related rows are select_related/prefetched by the views."""

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import Department, Role, User


def render_roles(user):
    return format_html_join(" ", '<span class="badge rounded-pill text-bg-light border">{}</span>', ((r.name,) for r in user.roles.all()))


def render_active(obj):
    if obj.is_active:
        return format_html('<span class="badge text-bg-success-subtle text-success-emphasis">{}</span>', _("Active"))
    return format_html('<span class="badge text-bg-secondary">{}</span>', _("Deactivated"))


class UserTable(Table):
    department = Column(order_by="department__name")
    role_names = Column(_("Roles"), render=render_roles)
    status = Column(_("Status"), render=render_active, order_by="is_active")

    class Meta:
        model = User
        fields = ["name", "username", "mobile", "email", "department", "role_names", "title", "status", "last_login", "date_joined"]
        default_columns = ["name", "username", "mobile", "department", "role_names", "title", "status"]
        linkify = ["name", "username"]


class DepartmentTable(Table):
    parent = Column(order_by="parent__name")
    manager = Column(order_by="manager__name")
    member_count = Column(_("Members"), order_by="member_count")
    status = Column(_("Status"), render=render_active, order_by="is_active")

    class Meta:
        model = Department
        fields = ["name", "parent", "manager", "member_count", "order", "status", "created_at"]
        default_columns = ["name", "parent", "manager", "member_count", "order", "status"]
        linkify = ["name"]


def render_role_kind(role):
    badges = []
    if role.is_builtin:
        badges.append(format_html('<span class="badge text-bg-info-subtle text-info-emphasis">{}</span>', _("Built-in")))
    if role.is_admin:
        badges.append(format_html('<span class="badge text-bg-warning-subtle text-warning-emphasis">{}</span>', _("All permissions")))
    return format_html_join(" ", "{}", ((b,) for b in badges))


class RoleTable(Table):
    kind = Column(_("Type"), render=render_role_kind, order_by="is_builtin")
    user_count = Column(_("Users"), order_by="user_count")

    class Meta:
        model = Role
        fields = ["name", "code", "kind", "description", "user_count", "created_at"]
        default_columns = ["name", "kind", "description", "user_count"]
        linkify = ["name"]
