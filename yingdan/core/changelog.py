"""Field-level change recording for every BusinessModel, inside or outside HTTP requests.

`core.signals` calls `record()` on post_save/post_delete and on m2m changes; the who/through-what comes from
`core.context`. Code that writes with queryset.update() or bulk_create() must call `record()` itself
(or `record_many()`), so nothing is written unaudited.
"""

from __future__ import annotations

import datetime
import decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models

from . import context, events
from .choices import ChangeAction

_SCALAR = (str, int, bool, float, type(None))


def _plain(value):
    if type(value) in _SCALAR:  # (most values: no conversion)
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def tracked_fields(model) -> list[models.Field]:
    fields = _TRACKED.get(model)
    if fields is None:
        exclude = set(getattr(model, "changelog_exclude", ())) | {"created_at", "updated_at"}
        fields = _TRACKED[model] = [f for f in model._meta.concrete_fields if f.name not in exclude and not f.primary_key]
    return list(fields)


_TRACKED: dict = {}  # model -> its tracked fields (models' fields do not change while the process runs)


def snapshot(instance) -> dict:
    return snapshot_values(type(instance), instance.__dict__)


def snapshot_values(model, values: dict) -> dict:
    """{field name: plain value} of the tracked fields present in `values` (keyed by attname); custom
    fields are spread out as cf_KEY."""
    data = {}
    for f in tracked_fields(model):
        if f.attname not in values:
            continue  # deferred field
        value = values[f.attname]
        if f.name == "custom_fields":
            for key, v in (value or {}).items():
                data[f"cf_{key}"] = _plain(v)
        else:
            data[f.name] = _plain(value)
    return data


def diff(before: dict, after: dict) -> dict:
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = [old, new]
    return changes


def record(instance, action: str, changes: dict | None = None):
    from .models import ObjectChange

    ctx = context.current()
    user = ctx.user if getattr(ctx.user, "is_authenticated", False) else None
    change = ObjectChange.objects.create(
        user=user,
        user_name=(user.get_username() if user else "")[:150],
        source=ctx.source,
        request_id=ctx.request_id,
        action=action,
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        changes=changes or {},
    )
    events.emit(action, instance, changes=changes or {})
    return change


def created_changes(after: dict) -> dict:
    """What a creation records: [None, value] for each tracked value that is not empty (None, "", [], {})."""
    return {k: [None, v] for k, v in after.items() if v or (v is not None and not isinstance(v, (str, list, dict)))}


def on_saved(instance, created: bool) -> None:
    after = snapshot(instance)
    if created:
        changes = created_changes(after)
        record(instance, ChangeAction.CREATE, changes)
    else:
        before = getattr(instance, "_changelog_snapshot", {})
        changes = diff(before, after) if before else {k: [None, v] for k, v in after.items()}
        if changes:
            record(instance, ChangeAction.UPDATE, changes)
    instance._changelog_snapshot = after


def on_deleted(instance) -> None:
    before = getattr(instance, "_changelog_snapshot", None) or snapshot(instance)
    record(instance, ChangeAction.DELETE, {k: [v, None] for k, v in before.items() if v not in (None, "", [], {})})


def on_m2m(instance, field_name: str, before: list, after: list) -> None:
    if sorted(before) != sorted(after):
        record(instance, ChangeAction.UPDATE, {field_name: [sorted(before), sorted(after)]})


def describe(changes_list) -> list[dict]:
    """Rows for display: each change with [(label, before, after)], related ids resolved in bulk."""
    from collections import defaultdict

    from .models import CustomField

    wanted: dict[type, set] = defaultdict(set)
    models_by_ct = {}
    for change in changes_list:
        model = change.content_type.model_class()
        models_by_ct[change.content_type_id] = model
        if model is None:
            continue
        for key, pair in (change.changes or {}).items():
            field = _field(model, key)
            if field is not None and field.is_relation and field.related_model is not None:
                for value in pair:
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, int):
                            wanted[field.related_model].add(item)
    resolved = {m: m._default_manager.in_bulk(list(ids)) for m, ids in wanted.items()}
    cf_labels = {(d.object_type, d.name): d for d in CustomField.objects.all()}
    out = []
    for change in changes_list:
        model = models_by_ct.get(change.content_type_id)
        rows = []
        for key, pair in sorted((change.changes or {}).items()):
            before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            label = key
            if model is not None:
                field = _field(model, key)
                if field is not None:
                    label = field.verbose_name
                    if field.is_relation and field.related_model in resolved:
                        objs = resolved[field.related_model]
                        before, after = (_resolve(v, objs) for v in (before, after))
                elif key.startswith("cf_"):
                    d = cf_labels.get((model._meta.label_lower, key[3:]))
                    if d is not None:
                        label = d.display_label
                        before, after = d.display_value(before), d.display_value(after)
            rows.append({"field": key, "label": label, "before": _text(before), "after": _text(after)})
        out.append({"change": change, "rows": rows})
    return out


def _field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _resolve(value, objs):
    if isinstance(value, list):
        return "、".join(str(objs.get(v, v)) for v in value)
    if isinstance(value, int) and value in objs:
        return str(objs[value])
    return value


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)
