import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.core.models import Lookup
from yingdan.org.models import Department

from .models import FollowUp


class FollowUpFilterSet(BaseFilterSet):
    type = django_filters.ModelMultipleChoiceFilter(
        queryset=Lookup.objects.filter(kind="followup_type"), label=_("Type"), distinct=False
    )
    owner = django_filters.ModelMultipleChoiceFilter(queryset=get_user_model().objects.all(), label=_("Author"), distinct=False)
    department = django_filters.ModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"), distinct=False)
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    lead = django_filters.NumberFilter(field_name="lead_id", label=_("Lead"))
    occurred_after = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label=_("From"))
    occurred_before = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label=_("To"))
    has_next = django_filters.BooleanFilter(field_name="next_at", lookup_expr="isnull", exclude=True, label=_("Has a next step"))

    class Meta:
        model = FollowUp
        fields = ["q", "type", "owner", "department", "customer", "lead", "occurred_after", "occurred_before"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        return queryset.filter(content__icontains=value) if value else queryset
