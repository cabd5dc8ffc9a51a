import django_filters
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet

from .models import DuplicateRule, ObjectType, TransferRequest, TransferStatus


class DuplicateRuleFilterSet(BaseFilterSet):
    object_type = django_filters.ChoiceFilter(choices=ObjectType.choices, label=_("Checked object"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = DuplicateRule
        fields = ["q", "object_type", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class TransferRequestFilterSet(BaseFilterSet):
    status = django_filters.ChoiceFilter(choices=TransferStatus.choices, label=_("Status"))
    object_type = django_filters.ChoiceFilter(choices=[(ObjectType.CUSTOMER, _("Customer")), (ObjectType.LEAD, _("Lead"))], label=_("Object"))

    class Meta:
        model = TransferRequest
        fields = ["q", "status", "object_type"]

    def search(self, queryset, name, value):
        return queryset.filter(object_repr__icontains=value)
