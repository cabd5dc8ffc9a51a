"""Base serializer of every API model (NetBox-style).

`BaseModelSerializer` gives each endpoint, from a few declarative lines:

- `id`, `url` and `display` on every object;
- relations read as brief objects `{id, name, url}` and written as ids (`NestedRelatedField`), limited to rows
  the user may view;
- `custom_fields` as one nested object, validated by the definitions; errors as
  `{"custom_fields": {"key": ["..."]}}`;
- field permissions of the user's roles: hidden fields are left out of the output and refused on input,
  read-only fields are shown but a write that changes them is a field error (custom fields as `cf_<key>`);
- saving through the app's service function (`save_instance`), whose Django `ValidationError`s become
  field errors in the one API error format.
"""

from __future__ import annotations

import threading

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.urls import NoReverseMatch
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.reverse import reverse

from ..choices import FieldAccess
from ..permissions import get_permissions
from . import schema  # noqa: F401  (registers the OpenAPI extensions)
from .exceptions import django_errors_to_api
from .fields import CustomFieldsField, IdentityUrlField, NestedRelatedField, custom_field_definitions

BRIEF_CANDIDATES = ("username", "name", "code")
# Relations to these are choosable by anyone who may write the referencing record (a rep picks a customer
# level without any settings permission); relations to everything else are limited to rows the user can view.
UNSCOPED_RELATIONS = {"core.lookup", "core.tag", "core.customfield"}


def brief_fields_for(model) -> tuple[str, ...]:
    names = {f.name for f in model._meta.get_fields()}
    return tuple(n for n in BRIEF_CANDIDATES if n in names) or ("display",)


_url_names: dict[str, str | None] = {}


def url_name_for(model) -> str | None:
    """The API route name of a model (router basename = model name), or None if it has no endpoint."""
    label = model._meta.label_lower
    if label not in _url_names:
        name = model._meta.model_name
        try:
            reverse(f"{name}-detail", args=[1])
        except NoReverseMatch:
            name = None
        _url_names[label] = name
    return _url_names[label]


_built_fields: dict[tuple, tuple] = {}
# Bound field sets re-used by read-only serializers (`shared_fields` in the context), per thread.
_shared = threading.local()
SHARED_FIELDS_MAX = 256


class BaseModelSerializer(serializers.ModelSerializer):
    """Subclasses declare `Meta.model` and `Meta.fields` and override `save_instance` / `delete_instance`
    to call their service functions."""

    serializer_related_field = NestedRelatedField

    display = serializers.SerializerMethodField(help_text="A human-readable name of the object.")

    # --- set-up ----------------------------------------------------------------------------------
    @property
    def request(self):
        return self.context.get("request")

    @property
    def actor(self):
        request = self.request
        return getattr(request, "user", None)

    @cached_property
    def permission_module(self) -> str:
        return getattr(self.Meta, "permission_module", None) or getattr(self.Meta.model, "permission_module", "")

    @cached_property
    def field_access_map(self) -> dict[str, str]:
        """{field: 'read'|'hidden'} for the requesting user (empty without a request, e.g. schema generation)."""
        if self.actor is None or not self.permission_module:
            return {}
        return get_permissions(self.actor).field_map(self.permission_module)

    def build_field(self, field_name, info, model_class, nested_depth):
        """What DRF derives from the model for a field (class and arguments) depends only on the serializer
        class, so it is derived once per process: it was most of the cost of building a serializer, i.e. of
        a GET by id. Each serializer still gets its own field objects."""
        key = (type(self), field_name, model_class, nested_depth)
        built = _built_fields.get(key)
        if built is None:
            built = _built_fields[key] = super().build_field(field_name, info, model_class, nested_depth)
        field_class, kwargs = built
        return field_class, dict(kwargs)  # get_fields adds the extra kwargs to this dict

    def build_relational_field(self, field_name, relation_info):
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        if field_class is NestedRelatedField:
            model = relation_info.related_model
            kwargs.setdefault("brief_fields", brief_fields_for(model))
            kwargs.setdefault("url_name", url_name_for(model))
            kwargs.setdefault("scoped", model._meta.label_lower not in UNSCOPED_RELATIONS)
        return field_class, kwargs

    def build_url_field(self, field_name, model_class):
        return IdentityUrlField, {"view_name": f"{model_class._meta.model_name}-detail"}

    @cached_property
    def fields(self):
        """The bound fields. A GET by id (the view puts `shared_fields` in the context) re-uses the field set
        built for the first serializer of the same class and the same field permissions in this thread,
        instead of building some thirty fields again (most of the time of a GET by id): what `get_fields`
        returns depends on nothing else. The set is re-pointed at this serializer before it is used."""
        key = self._shared_fields_key()
        if key is None:
            return serializers.Serializer.fields.func(self)
        pool = getattr(_shared, "fields", None)
        if pool is None:
            pool = _shared.fields = {}
        entry = pool.get(key)
        if entry is None:
            fields = serializers.Serializer.fields.func(self)
            if len(pool) >= SHARED_FIELDS_MAX:
                pool.clear()
            pool[key] = (fields, frozenset(self._hidden_fields), frozenset(self._readonly_fields))
            return fields
        fields, hidden, readonly = entry
        self._hidden_fields, self._readonly_fields = set(hidden), set(readonly)
        self._adopt(fields)
        return fields

    def _shared_fields_key(self):
        if (not self.context.get("shared_fields") or self.parent is not None or self.instance is None
                or hasattr(self, "initial_data") or self.request is None):
            return None
        return (type(self), self.permission_module, tuple(sorted(self.field_access_map.items())))

    def _adopt(self, fields) -> None:
        fields.serializer = self
        for field in fields.values():
            field.parent = self

    def to_representation(self, instance):
        if self.context.get("shared_fields") and self.parent is None:
            self._adopt(self.fields)  # another serializer of this thread may have taken the set since
        return super().to_representation(instance)

    def get_fields(self):
        fields = super().get_fields()
        self._hidden_fields = set()
        self._readonly_fields = set()
        for name, level in self.field_access_map.items():
            if name.startswith("cf_") or name not in fields:
                continue
            if level == FieldAccess.HIDDEN:
                fields.pop(name)
                self._hidden_fields.add(name)
            elif level == FieldAccess.READ and not fields[name].read_only:
                self._readonly_fields.add(name)
        return fields

    def get_display(self, obj) -> str:
        return str(obj)

    # --- custom fields --------------------------------------------------------------------------
    def custom_field_definitions(self):
        """Active definitions of this model, loaded once per request (shared by list items and filters)."""
        if self.request is not None:
            return custom_field_definitions(self.Meta.model, self.request)
        cache = self.context.setdefault("_custom_field_definitions", {})  # used without a request (scripts)
        label = self.Meta.model._meta.label_lower
        if label not in cache:
            cache[label] = self.Meta.model.custom_field_definitions()
        return cache[label]

    def custom_field_access(self) -> dict[str, str]:
        return {k[3:]: v for k, v in self.field_access_map.items() if k.startswith("cf_")}

    def hidden_custom_fields(self) -> set[str]:
        return {k for k, v in self.custom_field_access().items() if v == FieldAccess.HIDDEN}

    def _validate_custom_fields(self, data: dict) -> dict:
        instance = self.instance if self.instance is not None else self.Meta.model()
        errors = {}
        stored = instance.custom_fields or {}
        for key, level in self.custom_field_access().items():
            if key in data and level in (FieldAccess.READ, FieldAccess.HIDDEN):
                if self.instance is None or data[key] != stored.get(key):
                    errors[key] = [_("You may not change this field.")]
        if errors:
            raise serializers.ValidationError({"custom_fields": errors})
        try:
            instance.validate_custom_fields(
                data, self.custom_field_definitions(), partial=self.partial and self.instance is not None
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return data

    # --- validation -----------------------------------------------------------------------------
    def to_internal_value(self, data):
        self.fields  # noqa: B018  (builds the fields, and with them the hidden/read-only sets)
        if isinstance(data, dict):
            refused = [name for name in self._hidden_fields if name in data]
            if refused:
                raise serializers.ValidationError({name: [_("You may not change this field.")] for name in refused})
        return super().to_internal_value(data)

    def run_validation(self, data=empty):
        attrs = super().run_validation(data)
        if "custom_fields" in self.fields and not self.fields["custom_fields"].read_only:
            if "custom_fields" in attrs or self.instance is None or not self.partial:
                attrs["custom_fields"] = self._validate_custom_fields(attrs.get("custom_fields") or {})
        return attrs

    def validate(self, attrs):
        attrs = super().validate(attrs)
        errors = {}
        for name in self._readonly_fields & set(attrs):
            if self.instance is None or not self._same_value(name, attrs[name]):
                errors[name] = [_("You may not change this field.")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _same_value(self, name: str, value) -> bool:
        field = self.Meta.model._meta.get_field(self.fields[name].source or name)
        current = getattr(self.instance, field.name)
        if field.many_to_many:
            return sorted(o.pk for o in current.all()) == sorted(getattr(o, "pk", o) for o in value)
        if isinstance(field, models.ForeignKey):
            return getattr(current, "pk", None) == getattr(value, "pk", value)
        return current == value

    # --- saving ---------------------------------------------------------------------------------
    def _split_m2m(self, validated_data: dict) -> tuple[dict, dict]:
        m2m_names = {f.name for f in self.Meta.model._meta.many_to_many}
        m2m = {k: validated_data.pop(k) for k in list(validated_data) if k in m2m_names}
        return validated_data, m2m

    def create(self, validated_data):
        data, m2m = self._split_m2m(dict(validated_data))
        custom_fields = data.pop("custom_fields", None)
        instance = self.Meta.model(**data)
        return self._save(instance, m2m, custom_fields)

    def update(self, instance, validated_data):
        data, m2m = self._split_m2m(dict(validated_data))
        custom_fields = data.pop("custom_fields", None)
        for name, value in data.items():
            setattr(instance, name, value)
        return self._save(instance, m2m, custom_fields)

    def _save(self, instance, m2m: dict, custom_fields: dict | None):
        try:
            return self.save_instance(instance, m2m=m2m, custom_fields=custom_fields)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))

    def save_instance(self, instance, *, m2m: dict, custom_fields: dict | None):
        """Default save for models without a service: validate, save and set relations atomically.
        Business models override this to call their service function."""
        with transaction.atomic():
            if custom_fields is not None:
                instance.custom_fields = instance.validate_custom_fields(custom_fields, partial=self.partial)
            instance.full_clean()
            instance.save()
            for name, value in m2m.items():
                getattr(instance, name).set(value)
        return instance

    def delete_instance(self, instance) -> None:
        """Default delete; business models override this to call their service function."""
        instance.delete()


class CustomFieldsSerializerMixin(serializers.Serializer):
    """Adds the `custom_fields` object (declare "custom_fields" in Meta.fields)."""

    custom_fields = CustomFieldsField(help_text="Custom field values keyed by field key; see /api/v1/custom-fields/.")
