"""/api/v1/lookups/ — the admin-editable lists (customer levels, statuses, industries, sources, ...).

Every signed-in user may read them (forms need them); writes need settings:edit. Entries are never deleted
(records refer to them): set `is_active` to false instead.
"""

import django_filters
from django.utils.translation import gettext as _
from rest_framework import serializers

from .. import registry, services
from ..models import Lookup
from .customfields import SETTINGS_WRITES
from .filters import BaseFilterSet
from .serializers import BaseModelSerializer
from .viewsets import BaseModelViewSet


class LookupSerializer(BaseModelSerializer):
    class Meta:
        model = Lookup
        permission_module = "settings"
        fields = ["id", "url", "display", "kind", "name", "name_en", "code", "color", "order", "is_default", "is_active", "extra"]

    def validate_kind(self, value):
        if value not in registry.lookup_kinds:
            raise serializers.ValidationError(
                _("Unknown list; one of: %(kinds)s.") % {"kinds": ", ".join(sorted(registry.lookup_kinds))}
            )
        if self.instance is not None and value != self.instance.kind:
            raise serializers.ValidationError(_("An entry cannot move to another list."))
        return value

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_lookup(self.actor, instance)


class LookupFilterSet(BaseFilterSet):
    kind = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Lookup
        fields = []


class LookupViewSet(BaseModelViewSet):
    """List entries; filter with `?kind=customer_level`."""

    queryset = Lookup.objects.all()
    serializer_class = LookupSerializer
    filterset_class = LookupFilterSet
    permission_module = "settings"
    read_requires_module = False
    action_permissions = SETTINGS_WRITES
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("id", "order", "name")
    ordering = ("kind", "order", "id")
    search_fields = ("name", "name_en", "code")
