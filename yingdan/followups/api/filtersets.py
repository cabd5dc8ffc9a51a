import django_filters

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import FollowUp


class FollowUpFilterSet(BaseFilterSet):
    customer = NumberInFilter(field_name="customer_id", lookup_expr="in", label="Customer ids")
    lead = NumberInFilter(field_name="lead_id", lookup_expr="in", label="Lead ids")
    owner = NumberInFilter(field_name="owner_id", lookup_expr="in", label="Author ids")
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    type = NumberInFilter(field_name="type_id", lookup_expr="in", label="Type ids")
    occurred_after = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    next_after = django_filters.DateFilter(field_name="next_at", lookup_expr="gte")
    next_before = django_filters.DateFilter(field_name="next_at", lookup_expr="lte")

    class Meta:
        model = FollowUp
        fields = []
