import django_filters
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet

from .models import Robot, Vendor, Webhook


class RobotFilterSet(BaseFilterSet):
    vendor = django_filters.ChoiceFilter(choices=Vendor.choices, label=_("Vendor"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Robot
        fields = ["q", "vendor", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class WebhookFilterSet(BaseFilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Webhook
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
