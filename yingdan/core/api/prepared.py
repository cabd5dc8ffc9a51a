"""Compiled SELECTs of the API's fixed-shape reads, kept per process.

A GET by id ran four small SELECTs (the token with its user, the record with its joins, two to-many
relations); building and compiling them with the ORM cost several times what the database took to answer.
Their *shape* does not change from one request to the next — only a value or two does (a token digest, a
record id) — so each is built once per shape with sentinel values in place of those, compiled, and kept
with the positions of the sentinels among its parameters. A later read puts its values there, runs the SQL
and turns the rows into instances exactly like Django's `ModelIterable` does (`from_db`, the select_related
populators, the field converters).

`key` names the shape: everything the queryset was built from except the sentinel values. For a scoped
query that is the user's authorization entry (`api.cache.authz_key`), which changes whenever the
permissions, the department tree or the user's own row do. A queryset this cannot replay (prefetches, a
non-model iterable, sentinels missing from the parameters) is answered the ordinary way.
"""

from __future__ import annotations

import time

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators

from . import cache as api_cache

# Values that stand for the varying ones while a shape is compiled (never a real id or digest).
INT_SENTINEL = 6917529027641081853
STR_SENTINEL = "\x1eyingdan-prepared-sentinel\x1e"
MAX_ROWS = 21  # what QuerySet.get() reads to tell "one" from "several"

_EMPTY = object()  # a shape that never matches anything (e.g. `.none()`)
_UNPREPARABLE = object()


class Prepared:
    __slots__ = ("db", "sql", "params", "slots", "col_count", "has_extra_select", "model", "init_list", "start", "end",
                 "populators", "converters", "annotations")

    def rows(self, values: dict) -> list:
        params = list(self.params)
        for name, positions in self.slots:
            for i in positions:
                params[i] = values[name]
        connection = connections[self.db]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        objects = []
        for row in fetched:
            if self.has_extra_select:
                row = row[: self.col_count]
            if self.converters:
                row = list(row)
                for pos, convs, expression in self.converters:
                    value = row[pos]
                    for converter in convs:
                        value = converter(value, expression, connection)
                    row[pos] = value
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.populators:
                populator.populate(row, obj)
            for attr, pos in self.annotations:
                setattr(obj, attr, row[pos])
            objects.append(obj)
        return objects


def prepare(queryset, sentinels: dict):
    """Compile `queryset` (built with `sentinels` {name: sentinel value} in place of the varying values)."""
    if (queryset._prefetch_related_lookups or queryset._known_related_objects or queryset._iterable_class is not ModelIterable
            or queryset._result_cache is not None or queryset._fields is not None):
        return _UNPREPARABLE
    db = queryset.db
    compiler = queryset.query.get_compiler(using=db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _EMPTY
    if not sql:
        return _EMPTY
    params = tuple(params)
    slots = []
    for name, sentinel in sentinels.items():
        positions = tuple(i for i, p in enumerate(params) if type(p) is type(sentinel) and p == sentinel)
        if not positions:
            return _UNPREPARABLE
        slots.append((name, positions))
    if compiler.has_composite_fields([s[0] for s in compiler.select[: compiler.col_count]]):
        return _UNPREPARABLE
    klass_info = compiler.klass_info
    select = compiler.select
    prepared = Prepared()
    prepared.db = db
    prepared.sql = sql
    prepared.params = params
    prepared.slots = tuple(slots)
    prepared.col_count = compiler.col_count
    prepared.has_extra_select = compiler.has_extra_select
    prepared.model = klass_info["model"]
    fields = klass_info["select_fields"]
    prepared.start, prepared.end = fields[0], fields[-1] + 1
    prepared.init_list = [f[0].target.attname for f in select[prepared.start:prepared.end]]
    prepared.populators = get_related_populators(klass_info, select, db)
    prepared.converters = tuple(
        (pos, tuple(convs), expression)
        for pos, (convs, expression) in compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items()
    )
    prepared.annotations = tuple((compiler.annotation_col_map or {}).items())
    return prepared


# {shape key: (expires at, Prepared | _EMPTY | _UNPREPARABLE)}, apart from api.cache's entries so that the
# shapes (about 12 KB each; one per user and viewset for scoped reads) never crowd out the permissions.
_shapes: dict[tuple, tuple[float, object]] = {}
MAX_SHAPES = 2000


def fetch(key: tuple, build, values: dict, sentinels: dict) -> list | None:
    """The instances `build()` (a queryset using `sentinels`) gives with `values` in their place, from the
    SQL compiled for `key` (kept `api.cache.TTL` seconds, like the permissions a scoped key names); None when
    the shape cannot be replayed (the caller runs its queryset)."""
    now = time.monotonic()
    key = (*key, tuple(sentinels))
    hit = _shapes.get(key)
    if hit is None or hit[0] <= now:
        if len(_shapes) >= MAX_SHAPES:
            _shapes.clear()
        hit = _shapes[key] = (now + api_cache.TTL, prepare(build(), sentinels))
    prepared = hit[1]
    if prepared is _UNPREPARABLE:
        return None
    if prepared is _EMPTY:
        return []
    return prepared.rows(values)


def clear() -> None:
    _shapes.clear()
