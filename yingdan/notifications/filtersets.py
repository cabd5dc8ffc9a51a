import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from yingdan.core import registry

from .models import Notification

STATUS_CHOICES = (("unread", _("Unread")), ("read", _("Read")))
SORT_CHOICES = (("-id", _("Newest first")), ("id", _("Oldest first")))


def kind_choices():
    return sorted(((k, str(label)) for k, label in registry.notification_kinds.items()), key=lambda c: c[1])


class NotificationFilterSet(django_filters.FilterSet):
    """Filters of the notification list (page and API): read/unread, kind. The queryset is always the
    requesting user's own notifications."""

    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, method="filter_status", label=_("Status"),
                                         empty_label=_("All"))
    unread = django_filters.BooleanFilter(method="filter_unread", label=_("Unread only"), widget=forms.HiddenInput)
    kind = django_filters.ChoiceFilter(choices=(), label=_("Kind"), empty_label=_("All kinds"))

    class Meta:
        model = Notification
        fields = ["status", "unread", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["kind"].extra["choices"] = kind_choices()  # kinds registered by every app's ready()

    def filter_status(self, queryset, name, value):
        if value == "unread":
            return queryset.filter(read_at__isnull=True)
        if value == "read":
            return queryset.filter(read_at__isnull=False)
        return queryset

    def filter_unread(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
