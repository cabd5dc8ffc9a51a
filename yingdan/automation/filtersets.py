import django_filters
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet

from .models import AutomationRule, BriefSchedule, Trigger


class RuleFilterSet(BaseFilterSet):
    trigger = django_filters.ChoiceFilter(choices=Trigger.choices, label=_("Trigger"))
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = AutomationRule
        fields = ["q", "trigger", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)


class BriefFilterSet(BaseFilterSet):
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = BriefSchedule
        fields = ["q", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(name__icontains=value)
