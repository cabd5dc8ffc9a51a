"""FilterSet base: a free-text `q`, and filters generated from custom-field definitions (cf_KEY...)."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import DecimalField, IntegerField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from .choices import CustomFieldType as T
from .choices import FieldAccess
from .permissions import get_permissions


class BaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, custom_fields=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        model = self._meta.model
        if custom_fields is None:
            custom_fields = model.custom_field_definitions() if hasattr(model, "custom_field_definitions") else []
        user = getattr(request, "user", None)
        field_map = get_permissions(user).field_map(model.permission_module) if user else {}
        for name in list(self.filters):
            if field_map.get(name) == FieldAccess.HIDDEN:
                del self.filters[name]
        for d in custom_fields:
            if d.filterable and field_map.get(d.form_name) != FieldAccess.HIDDEN:
                self.filters.update(custom_field_filters(d))

    def search(self, queryset, name, value):
        return queryset

    def active_filters(self) -> list[tuple[str, str]]:
        """(label, value) of each filter in use, for the chips above the list."""
        out = []
        if not self.is_bound or not self.form.is_valid():
            return out
        for name, value in self.form.cleaned_data.items():
            if name == "q" or value is None or value == "" or (hasattr(value, "__len__") and len(value) == 0):
                continue
            field = self.form.fields[name]
            if hasattr(value, "__iter__") and not isinstance(value, str):
                text = "、".join(str(v) for v in value)
            else:
                text = str(value)
            out.append((str(field.label or name), text))
        return out


def custom_field_filters(d) -> dict:
    key = d.name
    label = d.display_label
    path = f"custom_fields__{key}"
    if d.type in (T.TEXT, T.LONGTEXT, T.PHONE, T.EMAIL, T.URL):
        return {d.form_name: django_filters.CharFilter(field_name=path, lookup_expr="icontains", label=label)}
    if d.type == T.SELECT:
        return {d.form_name: django_filters.MultipleChoiceFilter(field_name=path, choices=d.active_choices(), label=label, widget=forms.SelectMultiple, distinct=False)}
    if d.type == T.MULTISELECT:
        def contains(queryset, name, value, key=key):
            for v in value:
                queryset = queryset.filter(**{f"custom_fields__{key}__icontains": f'"{v}"'})
            return queryset

        return {d.form_name: django_filters.MultipleChoiceFilter(method=contains, choices=d.active_choices(), label=label)}
    if d.type == T.BOOLEAN:
        return {d.form_name: django_filters.BooleanFilter(field_name=path, label=label)}
    if d.type in (T.INTEGER, T.DECIMAL, T.MONEY):
        cast_to = IntegerField() if d.type == T.INTEGER else DecimalField(max_digits=20, decimal_places=4)

        def ranged(lookup):
            def apply(queryset, name, value, key=key, cast_to=cast_to):
                alias = f"_cf_num_{key}"
                queryset = queryset.alias(**{alias: Cast(KeyTextTransform(key, "custom_fields"), cast_to)})
                return queryset.filter(**{f"{alias}__{lookup}": value})

            return apply

        return {
            f"{d.form_name}_min": django_filters.NumberFilter(method=ranged("gte"), label=_("%(label)s from") % {"label": label}),
            f"{d.form_name}_max": django_filters.NumberFilter(method=ranged("lte"), label=_("%(label)s to") % {"label": label}),
        }
    if d.type in (T.DATE, T.DATETIME):
        widget = forms.DateInput(attrs={"type": "date"})
        return {
            f"{d.form_name}_after": django_filters.CharFilter(field_name=path, lookup_expr="gte", label=_("%(label)s from") % {"label": label}, widget=widget),
            f"{d.form_name}_before": django_filters.CharFilter(field_name=path, lookup_expr="lte", label=_("%(label)s to") % {"label": label}, widget=widget),
        }
    if d.type == T.USER:
        return {d.form_name: django_filters.NumberFilter(field_name=path, label=label)}
    return {}
