import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.core.models import Lookup
from yingdan.org.models import Department

from .kanban import stalled_q
from .models import Competitor, LossReason, Opportunity, Pipeline, Stage, StageKind

DATE = forms.DateInput(attrs={"type": "date"})


def department_tree_filter(queryset, name, value):
    """A department and its sub-departments (a team filter covers the whole team)."""
    ids = set()
    for department in value:
        ids.update(department.descendant_ids(include_self=True))
    return queryset.filter(department_id__in=ids) if ids else queryset


def close_month_filter(queryset, name, value):
    """`YYYY-MM`: expected close within that month."""
    try:
        year, month = (int(p) for p in value.split("-", 1))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        return queryset.none()
    return queryset.filter(expected_close__year=year, expected_close__month=month)


class OpportunityFilterSet(BaseFilterSet):
    pipeline = django_filters.ModelMultipleChoiceFilter(queryset=Pipeline.objects.all(), label=_("Pipeline"), distinct=False)
    stage = django_filters.ModelMultipleChoiceFilter(queryset=Stage.objects.select_related("pipeline"), label=_("Stage"), distinct=False)
    state = django_filters.MultipleChoiceFilter(choices=StageKind.choices, label=_("State"), distinct=False)
    owner = django_filters.ModelMultipleChoiceFilter(queryset=get_user_model().objects.filter(is_active=True), label=_("Owner"), distinct=False)
    department = django_filters.ModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"), method=department_tree_filter)
    source = django_filters.ModelMultipleChoiceFilter(queryset=Lookup.objects.filter(kind="opportunity_source"), label=_("Source"), distinct=False)
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"), widget=forms.HiddenInput)
    close_month = django_filters.CharFilter(method=close_month_filter, label=_("Close month"), widget=forms.TextInput(attrs={"type": "month"}))
    close_after = django_filters.DateFilter(field_name="expected_close", lookup_expr="gte", label=_("Close from"), widget=DATE)
    close_before = django_filters.DateFilter(field_name="expected_close", lookup_expr="lte", label=_("Close to"), widget=DATE)
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte", label=_("Amount from"))
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte", label=_("Amount to"))
    stalled = django_filters.BooleanFilter(method="filter_stalled", label=_("Stalled"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"), widget=DATE)
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"), widget=DATE)

    class Meta:
        model = Opportunity
        fields = ["q", "pipeline", "stage", "state", "owner", "department", "source", "customer"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        return queryset.filter(name__icontains=value) if value else queryset

    def filter_stalled(self, queryset, name, value):
        if value is None:
            return queryset
        q = stalled_q()
        return queryset.filter(q) if value else queryset.exclude(q)


class PipelineFilterSet(BaseFilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Pipeline
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))


class LossReasonFilterSet(BaseFilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = LossReason
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class CompetitorFilterSet(BaseFilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Competitor
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
