"""Filtering for API lists: a FilterSet base that adds custom-field filters (`cf_<key>=value`, plus
`cf_<key>__gte` / `__lte` for numbers and dates) and the `q` search backend over the indexed search columns."""

from __future__ import annotations

import json

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import DecimalField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from ..choices import CustomFieldType as T
from ..choices import FieldAccess
from ..models import CustomFieldsMixin
from ..permissions import get_permissions
from ..text import normalize
from ..validators import normalize_phone
from .fields import custom_field_definitions

MAX_INT = 2**63 - 1
RANGE_TYPES = {T.INTEGER, T.DECIMAL, T.MONEY, T.DATE, T.DATETIME}


class NumberInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """`?owner=3,5` — ids, compared on the column (no lookup of the related rows, nothing leaks)."""


class CustomFieldFilter(django_filters.CharFilter):
    """One custom field: the value is cleaned by the definition, so `12.5` finds the stored `"12.50"` and a
    choice label finds its key."""

    def __init__(self, definition, lookup: str = "exact", **kwargs):
        self.definition = definition
        self.cf_lookup = lookup
        kwargs.setdefault("label", definition.display_label)
        super().__init__(field_name=f"custom_fields__{definition.name}", **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        d = self.definition
        name = f"cf_{d.name}" + ("" if self.cf_lookup == "exact" else f"__{self.cf_lookup}")
        try:
            cleaned = d.clean_value(value, check_required=False)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({name: exc.messages})
        key = f"custom_fields__{d.name}"
        if d.type == T.MULTISELECT:
            for item in cleaned:
                qs = qs.filter(
                    Q(**{f"{key}__icontains": json.dumps(item, ensure_ascii=False)})
                    | Q(**{f"{key}__icontains": json.dumps(item)})
                )
            return qs
        if self.cf_lookup == "exact":
            return qs.filter(**{key: cleaned})
        alias = f"_cf_{d.name}"
        if d.type in (T.DECIMAL, T.MONEY):
            expression = Cast(KT(key), DecimalField(max_digits=30, decimal_places=4))
        elif d.type == T.INTEGER:
            return qs.filter(**{f"{key}__{self.cf_lookup}": cleaned})
        else:
            expression = KT(key)
        return qs.alias(**{alias: expression}).filter(**{f"{alias}__{self.cf_lookup}": cleaned})


class BaseFilterSet(django_filters.FilterSet):
    """Adds a filter per filterable custom field and drops filters on fields hidden for the user (a
    filter on a hidden field would reveal its values)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model
        if issubclass(model, CustomFieldsMixin):
            for definition in custom_field_definitions(model, self.request):
                if not definition.filterable:
                    continue
                self.filters[f"cf_{definition.name}"] = CustomFieldFilter(definition)
                if definition.type in RANGE_TYPES:
                    for lookup in ("gte", "lte"):
                        self.filters[f"cf_{definition.name}__{lookup}"] = CustomFieldFilter(definition, lookup)
        for f in self.filters.values():
            if isinstance(f, django_filters.NumberFilter):
                # ids and numbers beyond a 64-bit integer are a 400, not a database overflow
                f.extra.setdefault("min_value", -MAX_INT)
                f.extra.setdefault("max_value", MAX_INT)
        user = getattr(self.request, "user", None)
        module = getattr(model, "permission_module", "")
        if user is not None and module:
            hidden = {k for k, v in get_permissions(user).field_map(module).items() if v == FieldAccess.HIDDEN}
            for name, f in list(self.filters.items()):
                base = name.split("__")[0]
                field = f.field_name.split("__")[0] if f.field_name else ""
                if base in hidden or field in hidden or field.removesuffix("_id") in hidden:
                    del self.filters[name]
                elif isinstance(f, CustomFieldFilter) and f"cf_{f.definition.name}" in hidden:
                    del self.filters[name]


def prefix_q(field_name: str, prefix: str) -> Q:
    """`startswith` as a range, which SQLite and PostgreSQL (any collation) answer from a plain B-tree index."""
    return Q(**{f"{field_name}__gte": prefix, f"{field_name}__lt": prefix + "\U0010ffff"})


def name_search_q(text: str, *, phone_fields=(), email_fields=()) -> Q:
    """Search over the indexed columns of SearchKeysMixin models: a fragment of the normalised name,
    a prefix of the full pinyin or of the initials (`txkj`, `tengxun` find 腾讯科技), an exact phone or e-mail."""
    norm = normalize(text)
    q = Q(pk__in=[])
    if norm:
        q = Q(search_name__contains=norm)
        if norm.isascii() and norm.isalpha():
            q |= prefix_q("search_pinyin", norm) | prefix_q("search_initials", norm)
    if phone_fields and any(c.isdigit() for c in text):
        try:
            phone = normalize_phone(text)
        except DjangoValidationError:
            phone = ""
        for name in phone_fields if phone else ():
            q |= Q(**{name: phone})
    if email_fields and "@" in text:
        for name in email_fields:
            q |= Q(**{name: text.strip().lower()})
    return q


class QSearchFilter(BaseFilterBackend):
    """`?q=` — delegates to the viewset's `search_queryset(queryset, text)`."""

    param = "q"

    def filter_queryset(self, request, queryset, view):
        text = request.query_params.get(self.param, "").strip()[:100]
        if not text or not hasattr(view, "search_queryset"):
            return queryset
        return view.search_queryset(queryset, text)

    def get_schema_operation_parameters(self, view):
        if not hasattr(view, "search_queryset"):
            return []
        return [
            {
                "name": self.param,
                "required": False,
                "in": "query",
                "description": _("Search text: name fragment, pinyin or initials, phone, e-mail."),
                "schema": {"type": "string"},
            }
        ]
