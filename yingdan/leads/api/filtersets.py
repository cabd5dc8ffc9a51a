import django_filters

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import Lead


class LeadFilterSet(BaseFilterSet):
    owner = NumberInFilter(field_name="owner_id", lookup_expr="in", label="Owner ids (comma-separated)")
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    status = NumberInFilter(field_name="status_id", lookup_expr="in", label="Status ids")
    source = NumberInFilter(field_name="source_id", lookup_expr="in", label="Source ids")
    pool = NumberInFilter(field_name="pool_id", lookup_expr="in", label="Pool ids")
    in_pool = django_filters.BooleanFilter(field_name="pool", lookup_expr="isnull", exclude=True, label="In a public pool")
    converted = django_filters.BooleanFilter(field_name="converted_at", lookup_expr="isnull", exclude=True, label="Converted")
    mobile = django_filters.CharFilter()
    email = django_filters.CharFilter(lookup_expr="iexact")
    province = django_filters.CharFilter()
    city = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Lead
        fields = []
