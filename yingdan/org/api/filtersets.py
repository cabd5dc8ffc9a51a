import django_filters

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import Department, Role, User


class UserFilterSet(BaseFilterSet):
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    department_tree = django_filters.NumberFilter(method="filter_department_tree", label="Department id, with sub-departments")
    role = django_filters.NumberFilter(field_name="roles", label="Role id")
    is_active = django_filters.BooleanFilter()
    username = django_filters.CharFilter()

    class Meta:
        model = User
        fields = []

    def filter_department_tree(self, queryset, name, value):
        dept = Department.objects.filter(pk=value).only("path").first()
        if dept is None:
            return queryset.none()
        return queryset.filter(department__path__startswith=dept.path)


class DepartmentFilterSet(BaseFilterSet):
    parent = django_filters.NumberFilter(field_name="parent_id", label="Parent department id")
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Top-level departments only")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Department
        fields = []


class RoleFilterSet(BaseFilterSet):
    code = django_filters.CharFilter()
    is_builtin = django_filters.BooleanFilter()

    class Meta:
        model = Role
        fields = []
