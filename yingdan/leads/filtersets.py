import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.customers.filtersets import lookup_filter, name_search
from yingdan.org.models import Department
from yingdan.pools.models import Pool, PoolObject

from .models import AssignmentRule, Lead

YES_NO = (("yes", _("Yes")), ("no", _("No")))


class LeadFilterSet(BaseFilterSet):
    status = lookup_filter("lead_status", _("Status"))
    source = lookup_filter("lead_source", _("Source"))
    owner = django_filters.ModelMultipleChoiceFilter(queryset=get_user_model().objects.all(), label=_("Owner"), distinct=False)
    department = django_filters.ModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"), distinct=False)
    province = django_filters.CharFilter(lookup_expr="exact", label=_("Province"))
    city = django_filters.CharFilter(lookup_expr="exact", label=_("City"))
    pool = django_filters.ModelChoiceFilter(queryset=Pool.objects.filter(object_type=PoolObject.LEAD), label=_("Public pool"))
    in_pool = django_filters.ChoiceFilter(choices=YES_NO, method="filter_in_pool", label=_("In a public pool"))
    converted = django_filters.ChoiceFilter(choices=YES_NO, method="filter_converted", label=_("Converted"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"))
    mobile = django_filters.CharFilter(lookup_expr="exact", label=_("Mobile"))

    class Meta:
        model = Lead
        fields = ["q", "status", "source", "owner", "department", "province", "city", "pool", "in_pool", "converted", "mobile"]

    def search(self, queryset, name, value):
        return name_search(queryset, value)

    def filter_in_pool(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(pool__isnull=False)
        if value == "no":
            return queryset.filter(pool__isnull=True)
        return queryset

    def filter_converted(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(converted_at__isnull=False)
        if value == "no":
            return queryset.filter(converted_at__isnull=True)
        return queryset


class AssignmentRuleFilterSet(BaseFilterSet):
    method = django_filters.ChoiceFilter(choices=AssignmentRule._meta.get_field("method").choices, label=_("Method"))

    class Meta:
        model = AssignmentRule
        fields = ["q", "method"]

    def search(self, queryset, name, value):
        return queryset.filter(department__name__icontains=value.strip()[:100])
