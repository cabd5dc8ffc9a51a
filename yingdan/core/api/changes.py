"""/api/v1/changes/ — the change log, read-only (settings:view, i.e. administrators)."""

import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from rest_framework import serializers

from ..models import ObjectChange
from .filters import BaseFilterSet
from .serializers import BaseModelSerializer
from .viewsets import BaseReadOnlyViewSet


class ObjectChangeSerializer(BaseModelSerializer):
    object_type = serializers.SerializerMethodField(help_text="app_label.model, e.g. customers.customer")
    changes = serializers.JSONField(read_only=True, help_text='{"field": [before, after]}; custom fields as cf_<key>.')

    class Meta:
        model = ObjectChange
        permission_module = "settings"
        fields = [
            "id", "url", "display", "time", "user", "user_name", "source", "request_id", "action", "object_type",
            "object_id", "object_repr", "changes",
        ]
        read_only_fields = fields

    def get_object_type(self, obj) -> str:
        ct = ContentType.objects.get_for_id(obj.content_type_id)
        return f"{ct.app_label}.{ct.model}"


class ObjectChangeFilterSet(BaseFilterSet):
    object_type = django_filters.CharFilter(method="filter_object_type", label="app_label.model, e.g. customers.customer")
    object_id = django_filters.NumberFilter()
    user = django_filters.NumberFilter(field_name="user_id")
    action = django_filters.ChoiceFilter(choices=ObjectChange._meta.get_field("action").choices)
    source = django_filters.ChoiceFilter(choices=ObjectChange._meta.get_field("source").choices)
    request_id = django_filters.CharFilter()
    time_after = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte")
    time_before = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt")

    class Meta:
        model = ObjectChange
        fields = []

    def filter_object_type(self, queryset, name, value):
        app_label, _dot, model = value.lower().partition(".")
        try:
            ct = ContentType.objects.get_by_natural_key(app_label, model)
        except ContentType.DoesNotExist:
            raise serializers.ValidationError({"object_type": [_("Unknown object type.")]})
        return queryset.filter(content_type=ct)


class ObjectChangeViewSet(BaseReadOnlyViewSet):
    """Who changed what, when and through what (web, API, import, automation, system). Append-only."""

    queryset = ObjectChange.objects.all()
    serializer_class = ObjectChangeSerializer
    filterset_class = ObjectChangeFilterSet
    permission_module = "settings"
    select_related_fields = ("user",)
    ordering_fields = ("id", "time")
