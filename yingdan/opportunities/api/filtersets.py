import django_filters

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import ChecklistItem, Opportunity, Stage, StageKind


class OpportunityFilterSet(BaseFilterSet):
    pipeline = NumberInFilter(field_name="pipeline_id", lookup_expr="in", label="Pipeline ids")
    stage = NumberInFilter(field_name="stage_id", lookup_expr="in", label="Stage ids")
    state = django_filters.MultipleChoiceFilter(choices=StageKind.choices)
    owner = NumberInFilter(field_name="owner_id", lookup_expr="in", label="Owner ids")
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    customer = NumberInFilter(field_name="customer_id", lookup_expr="in", label="Customer ids")
    source = NumberInFilter(field_name="source_id", lookup_expr="in", label="Source ids")
    close_after = django_filters.DateFilter(field_name="expected_close", lookup_expr="gte")
    close_before = django_filters.DateFilter(field_name="expected_close", lookup_expr="lte")
    amount_min = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Opportunity
        fields = []


class StageFilterSet(BaseFilterSet):
    pipeline = NumberInFilter(field_name="pipeline_id", lookup_expr="in", label="Pipeline ids")
    kind = django_filters.ChoiceFilter(choices=StageKind.choices)
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Stage
        fields = []


class ChecklistItemFilterSet(BaseFilterSet):
    stage = NumberInFilter(field_name="stage_id", lookup_expr="in", label="Stage ids")
    pipeline = NumberInFilter(field_name="stage__pipeline_id", lookup_expr="in", label="Pipeline ids")
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = ChecklistItem
        fields = []
