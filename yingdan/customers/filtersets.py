import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from yingdan.core import registry
from yingdan.core.filtersets import BaseFilterSet
from yingdan.core.models import Lookup, Tag
from yingdan.core.text import normalize
from yingdan.org.models import Department

from .models import Contact, Customer


def lookup_filter(kind, label):
    # distinct=False: a foreign key cannot duplicate rows, and DISTINCT over whole rows is slow on big tables.
    return django_filters.ModelMultipleChoiceFilter(queryset=Lookup.objects.filter(kind=kind), label=label, distinct=False)


def name_search(queryset, value: str):
    """Fragment of the normalised name, pinyin or initials prefix, or a phone/e-mail prefix — through the
    index-backed filter the search app registers; a plain substring match only when none is registered."""
    value = value.strip()[:100]
    if not normalize(value):
        return queryset
    text_filter = registry.text_filters.get(queryset.model._meta.label_lower)
    if text_filter is not None:
        q = text_filter(value)
        return queryset.filter(q) if q is not None else queryset.none()
    return queryset.filter(search_name__contains=normalize(value))


class CustomerFilterSet(BaseFilterSet):
    level = lookup_filter("customer_level", _("Level"))
    status = lookup_filter("customer_status", _("Status"))
    industry = lookup_filter("industry", _("Industry"))
    source = lookup_filter("customer_source", _("Source"))
    owner = django_filters.ModelMultipleChoiceFilter(queryset=get_user_model().objects.all(), label=_("Owner"), distinct=False)
    department = django_filters.ModelMultipleChoiceFilter(queryset=Department.objects.all(), label=_("Department"), distinct=False)
    province = django_filters.CharFilter(lookup_expr="exact", label=_("Province"))
    city = django_filters.CharFilter(lookup_expr="exact", label=_("City"))
    tags = django_filters.ModelMultipleChoiceFilter(queryset=Tag.objects.all(), label=_("Tags"))
    credit_code = django_filters.CharFilter(lookup_expr="exact", label=_("Credit code"))
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("Created from"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("Created to"))

    class Meta:
        model = Customer
        fields = ["q", "level", "status", "industry", "source", "owner", "department", "province", "city", "tags", "credit_code"]

    def search(self, queryset, name, value):
        return name_search(queryset, value)


class ContactFilterSet(BaseFilterSet):
    customer = django_filters.NumberFilter(field_name="customer_id", label=_("Customer"))
    is_primary = django_filters.BooleanFilter(label=_("Primary contact"))
    email = django_filters.CharFilter(lookup_expr="iexact", label=_("E-mail"))
    mobile = django_filters.CharFilter(lookup_expr="exact", label=_("Mobile"))

    class Meta:
        model = Contact
        fields = ["q", "customer", "is_primary", "email", "mobile"]

    def search(self, queryset, name, value):
        return name_search(queryset, value)
