import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.org.models import Department

from .forms import target_type_choices
from .models import OPEN_STATUSES, Priority, Status, Task
from .services import linkable_type


class TaskFilterSet(BaseFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, label=_("Status"))
    priority = django_filters.MultipleChoiceFilter(choices=Priority.choices, label=_("Priority"))
    owner = django_filters.ModelMultipleChoiceFilter(queryset=get_user_model().objects.all(), label=_("Assignee"), distinct=False)
    department = django_filters.ModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"), distinct=False)
    due_after = django_filters.DateFilter(field_name="due_at", lookup_expr="date__gte", label=_("Due from"))
    due_before = django_filters.DateFilter(field_name="due_at", lookup_expr="date__lte", label=_("Due to"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))
    linked_type = django_filters.ChoiceFilter(choices=target_type_choices, method="filter_linked_type", label=_("Linked record type"))
    target_id = django_filters.NumberFilter(label=_("Linked record id"))

    class Meta:
        model = Task
        fields = ["q", "status", "priority", "owner", "department", "due_after", "due_before", "overdue", "linked_type", "target_id"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        return queryset.filter(title__icontains=value) if value else queryset

    def filter_overdue(self, queryset, name, value):
        q = Q(status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        if value is None:
            return queryset
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_linked_type(self, queryset, name, value):
        ct = linkable_type(value) if value else None
        return queryset.filter(target_type=ct) if ct else queryset
