"""Serializer fields shared by every endpoint.

- `NestedRelatedField`: a relation written as an id and read as a brief object `{id, <brief fields>, url}`
  (e.g. `owner: {"id": 3, "username": "zhangwei", "name": "张伟", "url": ...}`). With `scoped=True` the
  choices are limited to rows the requesting user may view, so an out-of-scope id is "does not exist".
- `CustomFieldsField`: the `custom_fields` object, rendered from the active definitions.
"""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

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

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        for key in kwargs:
            if key in MANY_RELATION_KWARGS:
                list_kwargs[key] = kwargs[key]
        return LoadedManyRelatedField(**list_kwargs)

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
            data["url"] = detail_url(f"{self.url_name}-detail", value.pk, self.context.get("request"))
        return data

    # Keep the choices out of the browsable API's HTML form (it would load whole tables).
    def get_choices(self, cutoff=None):
        return {}

    def display_value(self, instance):
        return str(instance)


# A stand-in id: the detail URL of a route is reversed once per request with it, then each object's URL is
# the two halves around its id (reverse() per relation per row was a large share of a list's time).
_URL_SENTINEL = 7340981265530128947


_shared_templates: dict[tuple, dict] = {}
SHARED_TEMPLATES_MAX = 64


def _templates_for(request, holder) -> dict:
    """The URL templates of this request: shared by the requests of the same scheme and host, script
    prefix and URLconf (all a reversed absolute URL depends on), unless a versioning scheme or a format
    override in the query string makes DRF's `reverse` depend on the request itself."""
    override = api_settings.URL_FORMAT_OVERRIDE
    if getattr(request, "versioning_scheme", None) is not None or (override and override in holder.GET):
        return {}
    key = (holder._current_scheme_host, get_script_prefix(), get_urlconf())
    templates = _shared_templates.get(key)
    if templates is None:
        if len(_shared_templates) >= SHARED_TEMPLATES_MAX:
            _shared_templates.clear()
        templates = _shared_templates[key] = {}
    return templates


def detail_url(view_name: str, pk, request=None, *, kwarg: str | None = None) -> str:
    """`reverse(view_name, args=[pk], request=request)` (or `kwargs={kwarg: pk}`), the same string, from a
    template when `pk` is an integer (reversed once per process and host, `_templates_for`)."""
    if request is None or not isinstance(pk, int) or isinstance(pk, bool):
        return _reverse(view_name, pk, request, kwarg)
    holder = getattr(request, "_request", request)
    templates = getattr(holder, "_yingdan_url_templates", None)
    if templates is None:
        templates = holder._yingdan_url_templates = _templates_for(request, holder)
    key = (view_name, kwarg)
    template = templates.get(key)
    if template is None:
        parts = _reverse(view_name, _URL_SENTINEL, request, kwarg).split(str(_URL_SENTINEL))
        template = templates[key] = tuple(parts) if len(parts) == 2 else ()
    if not template:
        return _reverse(view_name, pk, request, kwarg)
    return f"{template[0]}{pk}{template[1]}"


def _reverse(view_name, pk, request, kwarg):
    if kwarg:
        return reverse(view_name, kwargs={kwarg: pk}, request=request)
    return reverse(view_name, args=[pk], request=request)


class IdentityUrlField(serializers.HyperlinkedIdentityField):
    """The object's own `url`, built like `HyperlinkedIdentityField` but from the per-request template."""

    def get_url(self, obj, view_name, request, format):
        if format or self.lookup_field != "pk" or obj.pk is None:
            return super().get_url(obj, view_name, request, format)
        return detail_url(view_name, obj.pk, request, kwarg=self.lookup_url_kwarg)


class LoadedManyRelatedField(serializers.ManyRelatedField):
    """A to-many relation that reads the rows `load_many_related` put on the object, if any (no related
    manager per row and field), else the relation as usual."""

    def get_attribute(self, instance):
        loaded = getattr(instance, "_yingdan_many", None)
        if loaded is not None and self.source in loaded:
            return loaded[self.source]
        return super().get_attribute(instance)


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
        if request is not None:
            from .cache import custom_field_definitions as cached_definitions

            cache[label] = cached_definitions(model, request)
        else:
            cache[label] = model.custom_field_definitions()
    return cache[label]
