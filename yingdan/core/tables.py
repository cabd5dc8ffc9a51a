"""Declarative list tables: columns, sorting, the column chooser, field permissions, custom-field columns.

    class CustomerTable(Table):
        class Meta:
            model = Customer
            fields = ["name", "level", "owner", ...]         # available columns, in order
            default_columns = ["name", "level", "owner"]
            linkify = ["name"]

A Table renders only the rows of the current page; related objects must be select_related by the view.
"""

from __future__ import annotations

import datetime
import decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .choices import CustomFieldType, FieldAccess
from .permissions import get_permissions
from .templatetags.yingdan import money


class Column:
    def __init__(self, label=None, *, accessor: str | None = None, order_by: str | tuple | None = None,
                 sortable: bool = True, linkify: bool = False, render=None, money: bool = False):
        self.label = label
        self.accessor = accessor
        self.order_by = order_by
        self.sortable = sortable
        self.linkify = linkify
        self.render_func = render
        self.money = money
        self.name = ""

    def value(self, row):
        if self.render_func is not None:
            return self.render_func(row)
        obj = row
        for part in (self.accessor or self.name).split("__"):
            # a field with choices shows its (translated) label, not the stored value
            label_getter = getattr(obj, f"get_{part}_display", None) if isinstance(obj, models.Model) else None
            obj = label_getter() if callable(label_getter) else getattr(obj, part, None)
            if obj is None:
                return None
            if callable(obj) and not isinstance(obj, (models.Model, models.Manager)):  # a related manager is callable too
                obj = obj()
        return obj

    def render(self, row):
        value = self.value(row)
        if hasattr(value, "all") and callable(value.all):  # many-to-many manager
            value = "、".join(str(v) for v in value.all())
        text = display(value, money_value=self.money)
        if self.linkify and hasattr(row, "get_absolute_url") and text != "":
            return format_html('<a href="{}">{}</a>', row.get_absolute_url(), text)
        return text


class CustomFieldColumn(Column):
    def __init__(self, definition):
        super().__init__(definition.display_label, sortable=definition.type != CustomFieldType.MULTISELECT)
        self.definition = definition
        self.name = definition.form_name
        self.order_by = f"_cf_sort_{definition.name}"

    def value(self, row):
        return (row.custom_fields or {}).get(self.definition.name)

    def render(self, row):
        return self.definition.display_value(self.value(row))

    def annotate(self, queryset):
        return queryset.annotate(**{self.order_by: KeyTextTransform(self.definition.name, "custom_fields")})


def display(value, *, money_value: bool = False):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return format_html('<i class="bi {}" aria-label="{}"></i>', "bi-check-lg text-success" if value else "bi-dash text-muted", _("Yes") if value else _("No"))
    if money_value or isinstance(value, decimal.Decimal) and money_value:
        return money(value)
    if isinstance(value, datetime.datetime):
        return formats.date_format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "Y-m-d")
    return str(value)


class TableMeta(type):
    def __new__(mcs, name, bases, attrs):
        declared = {k: v for k, v in list(attrs.items()) if isinstance(v, Column)}
        for key in declared:
            attrs.pop(key)
        cls = super().__new__(mcs, name, bases, attrs)
        base_declared = {}
        for base in reversed(cls.__mro__[1:]):
            base_declared.update(getattr(base, "declared_columns", {}))
        base_declared.update(declared)
        cls.declared_columns = base_declared
        return cls


class Table(metaclass=TableMeta):
    class Meta:
        model = None
        fields: list[str] = []
        default_columns: list[str] = []
        linkify: list[str] = []

    def __init__(self, user, *, custom_fields=(), columns: list[str] | None = None, ordering: str | None = None):
        self.user = user
        self.model = self.Meta.model
        self.module = self.model.permission_module
        field_map = get_permissions(user).field_map(self.module)
        self.columns: dict[str, Column] = {}
        for name in list(self.Meta.fields):
            if field_map.get(name) == FieldAccess.HIDDEN:
                continue
            self.columns[name] = self._build_column(name)
        for definition in custom_fields:
            if field_map.get(definition.form_name) == FieldAccess.HIDDEN:
                continue
            self.columns[definition.form_name] = CustomFieldColumn(definition)
        defaults = [c for c in self.Meta.default_columns if c in self.columns]
        defaults += [d.form_name for d in custom_fields if d.show_in_list and d.form_name in self.columns]
        self.default_columns = defaults
        chosen = [c for c in (columns or []) if c in self.columns]
        self.visible_names = chosen or defaults
        self.ordering = ordering if ordering and ordering.lstrip("-") in self.columns and self.columns[ordering.lstrip("-")].sortable else None
        self.rows = []

    def _build_column(self, name: str) -> Column:
        column = self.declared_columns.get(name)
        if column is None:
            column = Column()
        column.name = name
        if column.label is None:
            try:
                column.label = capfirst(self.model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                column.label = name
        if name in getattr(self.Meta, "linkify", []):
            column.linkify = True
        if column.order_by is None and column.render_func is None:
            try:
                field = self.model._meta.get_field(name)
                if field.many_to_many or field.one_to_many:
                    column.sortable = False
                elif field.is_relation:
                    column.order_by = f"{name}_id" if name != "owner" else "owner__name"
                else:
                    column.order_by = name
            except FieldDoesNotExist:
                column.sortable = False
        if column.render_func is not None and column.order_by is None:
            column.sortable = False
        return column

    @property
    def visible_columns(self) -> list[Column]:
        return [self.columns[n] for n in self.visible_names]

    def order_queryset(self, queryset):
        if not self.ordering:
            return queryset
        column = self.columns[self.ordering.lstrip("-")]
        desc = self.ordering.startswith("-")
        if isinstance(column, CustomFieldColumn):
            queryset = column.annotate(queryset)
        keys = column.order_by if isinstance(column.order_by, (list, tuple)) else [column.order_by]
        pk_order = "-pk" if desc else "pk"
        return queryset.order_by(*[f"-{k}" if desc else k for k in keys], pk_order)

    def rendered_rows(self):
        cols = self.visible_columns
        return [(row, [col.render(row) for col in cols]) for row in self.rows]
