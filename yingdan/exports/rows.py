"""The cells of an export, fast: the list's own queryset read with values_list instead of model instances.

A column of a plain model field reads its value from the row tuple; a choice field shows its label from one
dict; a foreign key (lookups, users, departments, ...) shows str() of the related row, fetched once per chunk
for the ids not seen yet; a custom field reads the JSON column. Anything else (render functions, dotted
accessors, many-to-many, overridden get_FOO_display, column subclasses) is "slow": those cells come from model
instances of the same queryset, fetched once per chunk by id (with many-to-many prefetched), and go through
the same `cell()` as always. So the output is the one the instance path gives, cell for cell (tests compare
them); only the work per row changes.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
from functools import partialmethod
from itertools import islice

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

from yingdan.core.tables import Column, CustomFieldColumn

CHUNK = 2000
CACHE_MAX = 50_000  # related rows remembered across chunks (lookups, users, departments never get there)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NUMBER_TYPES = (int, float, decimal.Decimal)


def neutralise(value):
    """A cell no spreadsheet evaluates; numbers stay numbers (a negative amount is not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class _Plan:
    """How one column gets its value: kind is "value", "choice", "fk", "cf" or "slow"."""

    __slots__ = ("kind", "column", "index", "cache", "related", "choices")

    def __init__(self, kind, column, index=None, *, related=None, choices=None):
        self.kind, self.column, self.index = kind, column, index
        self.related, self.choices, self.cache = related, choices, {}


def _default_display(model, name) -> bool:
    """True when get_NAME_display is Django's own (a model may define its own, which the table would call)."""
    attr = inspect.getattr_static(model, f"get_{name}_display", None)
    if attr is None:
        return True
    return isinstance(attr, partialmethod) and attr.func is models.Model._get_FIELD_display


# Render functions known to show str() of a foreign key (`render=lambda c: c.customer`): read as that key.
# test_fast_path compares every column of every list with the instance path, so a changed render shows there.
RENDER_AS_FOREIGN_KEY = {
    ("customers.contact", "customer_link"): "customer",
    ("opportunities.opportunity", "customer_link"): "customer",
}


def plan_column(model, queryset, column):
    """(kind, values_list name, extra) for one column; kind "slow" needs a model instance."""
    as_fk = RENDER_AS_FOREIGN_KEY.get((model._meta.label_lower, column.name))
    if as_fk and type(column) is Column and column.render_func is not None:
        field = model._meta.get_field(as_fk)
        return "fk", field.attname, field.related_model
    if isinstance(column, CustomFieldColumn):
        if type(column).value is CustomFieldColumn.value:
            return "cf", "custom_fields", None
        return "slow", None, None
    if type(column).value is not Column.value or column.render_func is not None:
        return "slow", None, None
    name = column.accessor or column.name
    if not name or "__" in name:
        return "slow", None, None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        if name in queryset.query.annotations and not hasattr(model, name):
            return "value", name, None
        return "slow", None, None
    if not getattr(field, "concrete", False) or field.many_to_many or not _default_display(model, name):
        return "slow", None, None
    if hasattr(model, name) and not isinstance(inspect.getattr_static(model, name, None), _FIELD_DESCRIPTORS):
        return "slow", None, None
    if field.is_relation:
        if (field.many_to_one or field.one_to_one) and field.target_field == field.related_model._meta.pk and not field.choices:
            return "fk", field.attname, field.related_model
        return "slow", None, None
    if field.choices:
        return "choice", field.attname, dict(make_hashable(field.flatchoices))
    return "value", field.attname, None


def _field_descriptors():
    from django.db.models.fields.related_descriptors import ForwardManyToOneDescriptor
    from django.db.models.query_utils import DeferredAttribute

    return (DeferredAttribute, ForwardManyToOneDescriptor)


_FIELD_DESCRIPTORS = _field_descriptors()


class FastRows:
    """Batches of neutralised cells for an Export (same cells as `services.cell()` on instances)."""

    def __init__(self, export, chunk: int = CHUNK):
        self.export, self.chunk = export, chunk
        qs = export.queryset
        model = qs.model
        names: list[str] = []
        self.plans: list[_Plan] = []
        m2m: list[str] = []
        for column in export.columns:
            kind, name, extra = plan_column(model, qs, column)
            if kind == "slow":
                self.plans.append(_Plan("slow", column))
                field_name = column.accessor or column.name
                try:
                    if model._meta.get_field(field_name).many_to_many:
                        m2m.append(field_name)
                except FieldDoesNotExist:
                    pass
                continue
            if name not in names:
                names.append(name)
            self.plans.append(_Plan(kind, column, names.index(name), related=extra if kind == "fk" else None,
                                    choices=extra if kind == "choice" else None))
        self.slow = any(p.kind == "slow" for p in self.plans)
        if self.slow:
            names.append("pk")
        self.pk_index = len(names) - 1
        self.names = names
        self.m2m = m2m

    def _instances(self, ids):
        """The rows of this chunk as model instances (for slow columns), by pk. Like the list page's deferred
        join (CappedPaginator.page): the ids are already scoped and filtered, so the rows are read by id with
        the view's select_related/defer/prefetch only — repeating the scope filter made PostgreSQL plan badly."""
        source = self.export.queryset
        if source.query.annotation_select:  # annotated lists: the rows need the annotations
            qs = source._chain()
            qs.query.clear_limits()
            qs = qs.order_by()
        else:
            qs = source.model._default_manager.all()
            qs.query.select_related = source.query.select_related
            qs.query.deferred_loading = source.query.deferred_loading
            qs._prefetch_related_lookups = source._prefetch_related_lookups
        seen = {lookup if isinstance(lookup, str) else lookup.prefetch_through for lookup in qs._prefetch_related_lookups}
        extra = [name for name in self.m2m if name not in seen]
        if extra:
            qs = qs.prefetch_related(*extra)
        return {obj.pk: obj for obj in qs.filter(pk__in=ids)}

    def _resolve_fk(self, plan, rows):
        cache = plan.cache
        missing = {r[plan.index] for r in rows} - cache.keys()
        missing.discard(None)
        if not missing:
            return
        if len(cache) + len(missing) > CACHE_MAX:
            cache.clear()
            missing = {r[plan.index] for r in rows}
            missing.discard(None)
        manager = plan.related._base_manager
        found = {}
        ids = list(missing)
        for start in range(0, len(ids), 900):  # SQLite's variable limit, with room
            found.update(manager.in_bulk(ids[start:start + 900]))
        for pk in missing:
            obj = found.get(pk)
            cache[pk] = str(obj) if obj is not None else ""

    def batches(self):
        from .services import cell
        from .services import cell_value as convert

        qs = self.export.queryset.values_list(*self.names)
        iterator = qs.iterator(chunk_size=self.chunk)
        plans = self.plans
        tz = timezone.get_current_timezone()
        while True:
            rows = list(islice(iterator, self.chunk))
            if not rows:
                return
            for plan in plans:
                if plan.kind == "fk":
                    self._resolve_fk(plan, rows)
            instances = self._instances([r[self.pk_index] for r in rows]) if self.slow else None
            out = []
            for r in rows:
                line = []
                for plan in plans:
                    kind = plan.kind
                    if kind == "value":
                        value = r[plan.index]
                        if value.__class__ is datetime.datetime and value.tzinfo is not None:
                            value = value.astimezone(tz).replace(tzinfo=None)  # timezone.localtime(), tz read once
                        elif value.__class__ is not str:
                            value = convert(value)
                    elif kind == "fk":
                        key = r[plan.index]
                        value = "" if key is None else plan.cache[key]
                    elif kind == "choice":
                        raw = r[plan.index]
                        key = make_hashable(raw)
                        try:
                            value = plan.cache[key]
                        except KeyError:
                            value = plan.cache[key] = convert(force_str(plan.choices.get(key, raw), strings_only=True))
                    elif kind == "cf":
                        value = self._custom(plan, r[plan.index])
                    else:
                        value = cell(plan.column, instances[r[self.pk_index]])
                    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                        value = "'" + value
                    line.append(value)
                out.append(line)
            yield out

    @staticmethod
    def _custom(plan, data):
        value = (data or {}).get(plan.column.definition.name)
        if isinstance(value, NUMBER_TYPES) and not isinstance(value, bool):
            return value
        key = make_hashable(value)
        try:
            return plan.cache[key]
        except KeyError:
            pass
        except TypeError:  # not hashable after all
            return plan.column.definition.display_value(value)
        shown = plan.column.definition.display_value(value)
        if len(plan.cache) < CACHE_MAX:
            plan.cache[key] = shown
        return shown
