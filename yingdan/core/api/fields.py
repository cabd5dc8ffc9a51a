"""Serializer fields shared by every endpoint.

- `NestedRelatedField`: a relation written as an id and read as a brief object `{id, <brief fields>, url}`
  (e.g. `owner: {"id": 3, "username": "zhangwei", "name": "张伟", "url": ...}`). With `scoped=True` the
  choices are limited to rows the requesting user may view, so an out-of-scope id is "does not exist".
- `CustomFieldsField`: the `custom_fields` object, rendered from the active definitions.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from ..choices import Action


class NestedRelatedField(serializers.PrimaryKeyRelatedField):
    """Write: the related object's id (or `{"id": ...}`). Read: `{"id", *brief_fields, "url"}`."""

    default_error_messages = {
        "does_not_exist": _("Unknown id {pk_value}: no such object, or not one you may use."),
        "incorrect_type": _("Expected an id (a whole number), got {data_type}."),
    }

    def __init__(self, *, brief_fields=("name",), url_name: str | None = None, scoped: bool = False, **kwargs):
        self.brief_fields = tuple(brief_fields)
        self.url_name = url_name
        self.scoped = scoped
        super().__init__(**kwargs)

    def use_pk_only_optimization(self):
        return False

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if self.scoped and request is not None and hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(request.user, Action.VIEW)
        return queryset

    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = data.get("id")
        if isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return self.get_queryset().get(pk=data)
        except ObjectDoesNotExist:
            self.fail("does_not_exist", pk_value=data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)

    def to_representation(self, value):
        data = {"id": value.pk}
        for name in self.brief_fields:
            attr = getattr(value, name, None)
            data[name] = attr if attr is None or isinstance(attr, (bool, int)) else str(attr)
        if self.url_name:
            data["url"] = reverse(f"{self.url_name}-detail", args=[value.pk], request=self.context.get("request"))
        return data

    # Keep the choices out of the browsable API's HTML form (it would load whole tables).
    def get_choices(self, cutoff=None):
        return {}

    def display_value(self, instance):
        return str(instance)


@extend_schema_field(
    {"type": "object", "additionalProperties": {}, "description": "Custom field values keyed by field key."}
)
class CustomFieldsField(serializers.Field):
    """`{"key": value}` for every active definition (null when unset), minus fields hidden for the user.

    Writes are validated by the serializer (it needs the instance and the user's field permissions).
    """

    default_error_messages = {"not_a_dict": _("Expected an object of {{key: value}}.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance

    def to_representation(self, instance):
        serializer = self.parent
        stored = instance.custom_fields or {}
        hidden = serializer.hidden_custom_fields()
        return {d.name: stored.get(d.name) for d in serializer.custom_field_definitions() if d.name not in hidden}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("not_a_dict")
        return {"custom_fields": data}


def custom_field_definitions(model, request=None) -> list:
    """Active custom-field definitions of `model`, loaded once per request (filters and serializer share them)."""
    cache = getattr(request, "_yingdan_custom_fields", None) if request is not None else None
    if cache is None:
        cache = {}
        if request is not None:
            request._yingdan_custom_fields = cache
    label = model._meta.label_lower
    if label not in cache:
        cache[label] = model.custom_field_definitions()
    return cache[label]
