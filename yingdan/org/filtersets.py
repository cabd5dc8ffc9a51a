"""List filters of the organisation pages (users, the flat department list, roles)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.core.validators import to_halfwidth

from .models import Department, Role, User


def department_path_labeller():
    """A label function showing each department with its ancestry ("华东大区 / 上海组"), from one query."""
    names: dict[int, str] = {}

    def label(dept: Department) -> str:
        if not names:
            names.update(Department.objects.values_list("id", "name"))
        ids = [int(p) for p in dept.path.strip("/").split("/") if p]
        return " / ".join(names.get(i, "?") for i in ids) or dept.name

    return label


class DepartmentChoiceFilter(django_filters.ModelChoiceFilter):
    """A department picker whose options show the department path."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Department.objects.order_by("path").only("id", "name", "depth", "path"))
        super().__init__(*args, **kwargs)

    @property
    def field(self):
        field = super().field
        field.label_from_instance = department_path_labeller()
        return field


class UserFilterSet(BaseFilterSet):
    department = DepartmentChoiceFilter(method="filter_department", label=_("Department"))
    include_sub = django_filters.ChoiceFilter(
        method="noop", label=_("Sub-departments"), empty_label=_("This department only"),
        choices=[("1", _("Include sub-departments"))],
    )
    role = django_filters.ModelChoiceFilter(field_name="roles", queryset=Role.objects.order_by("id"), label=_("Role"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = User
        fields = ["q", "department", "include_sub", "role", "is_active"]

    def search(self, queryset, name, value):
        value = to_halfwidth(value).strip()
        if not value:
            return queryset
        q = Q(name__icontains=value) | Q(username__icontains=value) | Q(email__iexact=value)
        digits = "".join(c for c in value if c.isdigit())
        if len(digits) >= 4:
            q |= Q(mobile__contains=digits)
        return queryset.filter(q)

    def filter_department(self, queryset, name, value):
        if self.form.cleaned_data.get("include_sub"):
            return queryset.filter(department__path__startswith=value.path)
        return queryset.filter(department=value)

    def noop(self, queryset, name, value):
        return queryset


class DepartmentFilterSet(BaseFilterSet):
    parent = DepartmentChoiceFilter(label=_("Parent department"))
    manager = django_filters.ModelChoiceFilter(queryset=User.objects.filter(is_active=True).order_by("name"), label=_("Manager"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Department
        fields = ["q", "parent", "manager", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(name__icontains=value) if value else queryset


class RoleFilterSet(BaseFilterSet):
    is_builtin = django_filters.BooleanFilter(label=_("Built-in"))
    is_admin = django_filters.BooleanFilter(label=_("Administrator"))

    class Meta:
        model = Role
        fields = ["q", "is_builtin", "is_admin"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(code__icontains=value) | Q(description__icontains=value)) if value else queryset
