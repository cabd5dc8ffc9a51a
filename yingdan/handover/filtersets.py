import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from yingdan.core.filtersets import BaseFilterSet
from yingdan.org.models import User

from .choices import HandoverMode
from .models import HandoverRecord


class HandoverRecordFilterSet(BaseFilterSet):
    from_user = django_filters.ModelMultipleChoiceFilter(queryset=User.objects.all(), label=_("Leaving user"), distinct=False)
    successors = django_filters.ModelMultipleChoiceFilter(queryset=User.objects.all(), label=_("Successors"))
    mode = django_filters.MultipleChoiceFilter(choices=HandoverMode.choices, label=_("Mode"), distinct=False)
    created_after = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"))
    created_before = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = HandoverRecord
        fields = ["q", "from_user", "successors", "mode"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(Q(from_user__name__icontains=value) | Q(from_user__username__icontains=value))
