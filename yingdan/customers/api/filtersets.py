import django_filters

from yingdan.core.api.filters import BaseFilterSet, NumberInFilter

from ..models import Contact, Customer


class CustomerFilterSet(BaseFilterSet):
    owner = NumberInFilter(field_name="owner_id", lookup_expr="in", label="Owner ids (comma-separated)")
    department = NumberInFilter(field_name="department_id", lookup_expr="in", label="Department ids")
    level = NumberInFilter(field_name="level_id", lookup_expr="in", label="Level ids")
    status = NumberInFilter(field_name="status_id", lookup_expr="in", label="Status ids")
    industry = NumberInFilter(field_name="industry_id", lookup_expr="in", label="Industry ids")
    source = NumberInFilter(field_name="source_id", lookup_expr="in", label="Source ids")
    tag = django_filters.NumberFilter(field_name="tags", label="Tag id")
    province = django_filters.CharFilter()
    city = django_filters.CharFilter()
    district = django_filters.CharFilter()
    credit_code = django_filters.CharFilter()
    phone = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Customer
        fields = []


class ContactFilterSet(BaseFilterSet):
    customer = NumberInFilter(field_name="customer_id", lookup_expr="in", label="Customer ids")
    is_primary = django_filters.BooleanFilter()
    mobile = django_filters.CharFilter()
    email = django_filters.CharFilter(lookup_expr="iexact")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Contact
        fields = []
