import django_filters
from django.db.models import Q
from django.utils import timezone

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import LINKABLE_MODELS, OPEN_STATUSES, Priority, Status, Task
from ..services import linkable_type


class TaskApiFilterSet(BaseFilterSet):
    owner = NumberInFilter(field_name="owner_id", lookup_expr="in", label="Assignee ids (comma-separated)")
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices)
    due_after = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = django_filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    linked_type = django_filters.ChoiceFilter(choices=[(x, x) for x in LINKABLE_MODELS], method="filter_linked_type")
    linked_id = django_filters.NumberFilter(field_name="target_id")

    class Meta:
        model = Task
        fields = ["owner", "department", "status", "priority", "due_after", "due_before", "overdue", "linked_type", "linked_id"]

    def filter_overdue(self, queryset, name, value):
        q = Q(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_linked_type(self, queryset, name, value):
        ct = linkable_type(value)
        return queryset.filter(target_type=ct) if ct else queryset.none()
