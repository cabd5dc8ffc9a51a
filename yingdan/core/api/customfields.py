"""/api/v1/custom-fields/ — custom field definitions (settings permission)."""

import django_filters
from django.utils.translation import gettext as _
from rest_framework import serializers

from .. import registry, services
from ..models import CustomField
from .filters import BaseFilterSet
from .serializers import BaseModelSerializer
from .viewsets import BaseModelViewSet

SETTINGS_WRITES = {"create": "edit", "update": "edit", "partial_update": "edit"}


class CustomFieldSerializer(BaseModelSerializer):
    class Meta:
        model = CustomField
        permission_module = "settings"
        fields = [
            "id", "url", "display", "object_type", "name", "label", "label_en", "type", "required", "default", "unique",
            "min_value", "max_value", "max_length", "regex", "help_text", "order", "section", "choices",
            "show_in_list", "filterable", "is_active", "created_at", "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate_object_type(self, value):
        if value not in registry.custom_field_models:
            raise serializers.ValidationError(
                _("Unknown object type; one of: %(types)s.") % {"types": ", ".join(sorted(registry.custom_field_models))}
            )
        return value

    def validate_choices(self, value):
        if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
            raise serializers.ValidationError(_('A list of {"value", "label", "active"} objects.'))
        return value

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_custom_field(self.actor, instance)


class CustomFieldFilterSet(BaseFilterSet):
    object_type = django_filters.CharFilter()
    type = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = CustomField
        fields = []


class CustomFieldViewSet(BaseModelViewSet):
    """Custom field definitions of customers, contacts and later objects. Definitions are not deleted:
    set `is_active` to false (stored values are kept and come back when re-activated)."""

    queryset = CustomField.objects.all()
    serializer_class = CustomFieldSerializer
    filterset_class = CustomFieldFilterSet
    permission_module = "settings"
    action_permissions = SETTINGS_WRITES
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("id", "order", "name")
    search_fields = ("name", "label", "label_en")
