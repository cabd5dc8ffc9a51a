"""Rule evaluation and execution.

Matching runs inside the save (an on_commit=False event handler): active rules are cached per model and their
conditions are evaluated on the in-memory instance, so a save pays microseconds per rule. Matched rules run
their actions after the commit, in the worker (`tasks.run_rule`). Loop guard: the rules executing on the
current call chain are carried along (a context variable inside the worker, the job arguments across jobs);
a rule already in the chain, or a chain deeper than MAX_CHAIN, is not run again.
"""

from __future__ import annotations

import decimal
import logging
import re
import time
from contextvars import ContextVar
from functools import partial

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.utils.translation import gettext as _

from yingdan.core import registry

from .models import SCHEDULED_TRIGGERS, AutomationRule, Trigger

log = logging.getLogger(__name__)

MAX_CHAIN = 3
CACHE_TTL = 30.0  # seconds: other processes (the worker) pick up rule edits within this
_chain: ContextVar[tuple] = ContextVar("yingdan_automation_chain", default=())
_cache: dict = {"at": 0.0, "by_model": None}

OPERATORS = ["eq", "ne", "gt", "lt", "gte", "lte", "contains", "empty", "not_empty", "in"]
EXTRA_OBJECTS = ["followups.followup", "tasks.task"]


class RuleConfigError(Exception):
    """The rule names a field that does not exist (any more): the rule gets disabled."""


def object_types() -> list[tuple[str, str]]:
    """(label, verbose name) of the objects a rule may watch."""
    labels = list(registry.custom_field_models) + [x for x in EXTRA_OBJECTS if x not in registry.custom_field_models]
    out = []
    for label in labels:
        try:
            model = apps.get_model(label)
        except (LookupError, ValueError):
            continue
        out.append((label, str(model._meta.verbose_name_plural)))
    return out


def model_for(label: str):
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def invalidate(**kwargs) -> None:
    _cache["by_model"] = None


def _load() -> dict:
    now = time.monotonic()
    if _cache["by_model"] is not None and now - _cache["at"] < CACHE_TTL:
        return _cache["by_model"]
    by_model: dict[str, list] = {}
    for rule in AutomationRule.objects.filter(is_active=True).exclude(trigger__in=list(SCHEDULED_TRIGGERS)):
        try:
            validate_rule(rule)  # a field deleted since the rule was saved: disabled with the reason, not a crash
        except RuleConfigError as exc:
            AutomationRule.objects.filter(pk=rule.pk).update(is_active=False, disabled_reason=str(exc)[:300])
            continue
        by_model.setdefault(rule.object_type, []).append(rule)
    _cache.update(at=now, by_model=by_model)
    return by_model


# -- fields and conditions ----------------------------------------------------------------------------------
def _cf_keys(label: str) -> set[str]:
    from yingdan.core.models import CustomField

    return set(CustomField.objects.filter(object_type=label, is_active=True).values_list("name", flat=True))


def check_field(label: str, path: str) -> None:
    """Raise RuleConfigError if `path` (a field name or custom_fields__KEY) does not exist on the object."""
    model = model_for(label)
    if model is None:
        raise RuleConfigError(_("The object %(o)s does not exist.") % {"o": label})
    if path.startswith("custom_fields__"):
        key = path.split("__", 1)[1]
        if key not in _cf_keys(label):
            raise RuleConfigError(_("The custom field %(f)s does not exist.") % {"f": key})
        return
    try:
        field = model._meta.get_field(path)
    except FieldDoesNotExist:
        raise RuleConfigError(_("The field %(f)s does not exist.") % {"f": path}) from None
    if not getattr(field, "concrete", False) or field.many_to_many:
        raise RuleConfigError(_("The field %(f)s cannot be used in a rule.") % {"f": path})


def iter_conditions(conditions):
    for item in (conditions or {}).get("rules", []):
        if "rules" in item:
            yield from iter_conditions(item)
        else:
            yield item


def rule_fields(rule) -> list[str]:
    fields = [c.get("field", "") for c in iter_conditions(rule.conditions)]
    if rule.trigger_field:
        fields.append(rule.trigger_field)
    for action in rule.actions or []:
        if action.get("type") == "set_field":
            fields.append(action.get("field", ""))
    return fields


def validate_rule(rule) -> None:
    """Raise RuleConfigError on a field that does not exist or an unknown operator."""
    for path in rule_fields(rule):
        check_field(rule.object_type, path)
    for cond in iter_conditions(rule.conditions):
        if cond.get("op") not in OPERATORS:
            raise RuleConfigError(_("Unknown operator %(op)s.") % {"op": cond.get("op")})


def get_value(instance, path: str):
    if path.startswith("custom_fields__"):
        key = path.split("__", 1)[1]
        data = getattr(instance, "custom_fields", None) or {}
        return data.get(key)
    model = type(instance)
    try:
        field = model._meta.get_field(path)
    except FieldDoesNotExist:
        raise RuleConfigError(_("The field %(f)s does not exist.") % {"f": path}) from None
    return getattr(instance, field.attname)


def _num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, decimal.Decimal)):
        return decimal.Decimal(str(v))
    try:
        return decimal.Decimal(str(v).strip())
    except (decimal.InvalidOperation, ValueError):
        return None


def _plain(v):
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _eq(a, b) -> bool:
    if a is None or b is None:
        return a is None and (b is None or b == "")
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return na == nb
    if isinstance(a, bool):
        return a == (str(b).lower() in ("1", "true", "yes"))
    return str(_plain(a)) == str(b)


def _cmp(a, b):
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    sa, sb = str(_plain(a)), str(b)
    return (sa > sb) - (sa < sb)


def compare(value, op: str, target) -> bool:
    if op == "empty":
        return value in (None, "", [], {})
    if op == "not_empty":
        return value not in (None, "", [], {})
    if op == "eq":
        return _eq(value, target)
    if op == "ne":
        return not _eq(value, target)
    if op == "in":
        options = target if isinstance(target, list) else [t.strip() for t in str(target).split(",")]
        if isinstance(value, list):
            return any(_eq(v, t) for v in value for t in options)
        return any(_eq(value, t) for t in options)
    if op == "contains":
        if value is None:
            return False
        if isinstance(value, list):
            return any(_eq(v, target) for v in value)
        return str(target).lower() in str(value).lower()
    if value is None or value == "":
        return False
    c = _cmp(value, target)
    return {"gt": c > 0, "lt": c < 0, "gte": c >= 0, "lte": c <= 0}.get(op, False)


def evaluate(conditions, instance) -> bool:
    rules = (conditions or {}).get("rules") or []
    if not rules:
        return True
    logic = (conditions or {}).get("logic", "and")
    results = (evaluate(item, instance) if "rules" in item
               else compare(get_value(instance, item["field"]), item.get("op", "eq"), item.get("value")) for item in rules)
    return any(results) if logic == "or" else all(results)


# -- triggers ---------------------------------------------------------------------------------------------
def _change_key(path: str) -> str:
    return "cf_" + path.split("__", 1)[1] if path.startswith("custom_fields__") else path


def trigger_matches(rule, event) -> bool:
    t = rule.trigger
    if t == Trigger.CREATED:
        return event.action == "create"
    if t == Trigger.UPDATED:
        return event.action == "update"
    if t == Trigger.STAGE_ENTERED:
        if event.name.endswith(".stage_entered"):
            new = event.data.get("to_stage") or event.data.get("stage")
        elif event.action == "update" and "stage" in event.changes:
            new = event.changes["stage"][1]
        else:
            return False
        return rule.trigger_value in (None, "") or _eq(new, rule.trigger_value)
    if t == Trigger.FIELD_CHANGED:
        if event.action not in ("update", "create"):
            return False
        key = _change_key(rule.trigger_field)
        if key not in event.changes:
            return False
        return rule.trigger_value in (None, "") or _eq(event.changes[key][1], rule.trigger_value)
    return False


def disable(rule, reason: str) -> None:
    AutomationRule.objects.filter(pk=rule.pk).update(is_active=False, disabled_reason=str(reason)[:300])
    rule.is_active = False
    rule.disabled_reason = str(reason)[:300]
    invalidate()


def on_event(event) -> None:
    """Inside the save: decide which rules match; their actions run after commit."""
    if event.action == "delete" or event.instance is None:
        return
    rules = _load().get(event.model_label)
    if not rules:
        return
    chain = _chain.get()
    if len(chain) >= MAX_CHAIN:
        return
    for rule in rules:
        if rule.pk in chain or not rule.is_active:
            continue
        try:
            if not trigger_matches(rule, event) or not evaluate(rule.conditions, event.instance):
                continue
        except RuleConfigError as exc:
            disable(rule, str(exc))
            continue
        transaction.on_commit(partial(_enqueue, rule.pk, event.model_label, event.object_id, event.name, chain))


def _enqueue(rule_id, label, object_id, event_name, chain) -> None:
    from .tasks import run_rule

    run_rule(rule_id, label, object_id, event_name, list(chain))


# -- execution --------------------------------------------------------------------------------------------
def execute(rule_id: int, label: str, object_id: int, event_name: str, chain=(), dedupe_key: str | None = None):
    from yingdan.core import context
    from yingdan.core.choices import ChangeSource

    from . import actions
    from .models import RuleRun, RunResult

    rule = AutomationRule.objects.filter(pk=rule_id).select_related("created_by").first()
    if rule is None:
        return None
    run = RuleRun(rule=rule, object_type=label, object_id=object_id, event=event_name[:150], dedupe_key=dedupe_key)
    model = model_for(label)
    obj = model.objects.filter(pk=object_id).first() if model else None
    if not rule.is_active:
        run.result, run.message = RunResult.SKIPPED, _("The rule is disabled.")
    elif rule.pk in chain or len(chain) >= MAX_CHAIN:
        run.result, run.message = RunResult.SKIPPED, _("Loop guard: the rule already ran in this chain.")
    elif obj is None:
        run.result, run.message = RunResult.SKIPPED, _("The record no longer exists.")
    else:
        token = _chain.set(tuple(chain) + (rule.pk,))
        messages, failed = [], False
        try:
            with context.change_context(user=rule.created_by, source=ChangeSource.AUTOMATION):
                for spec in rule.actions or []:
                    try:
                        with transaction.atomic():
                            messages.append(actions.run(rule, obj, spec, event_name))
                    except RuleConfigError as exc:
                        disable(rule, str(exc))
                        messages.append(str(exc))
                        failed = True
                        break
                    except Exception as exc:  # one failing action is logged, the others still run
                        log.warning("automation rule %s action %s failed: %s", rule.pk, spec.get("type"), exc)
                        messages.append(f"{spec.get('type')}: {_error_text(exc)}")
                        failed = True
        finally:
            _chain.reset(token)
        run.result = RunResult.ERROR if failed else RunResult.OK
        run.message = "\n".join(m for m in messages if m)[:4000]
    run.save()
    return run


def _error_text(exc) -> str:
    if hasattr(exc, "messages"):
        return "; ".join(str(m) for m in exc.messages)
    return str(exc) or exc.__class__.__name__


TEMPLATE_RE = re.compile(r"\{\{\s*([a-zA-Z0-9_]+)\s*\}\}")


def render(template: str, obj) -> str:
    """Replace {{field}} with the record's value (display value for choices/relations)."""
    def repl(m):
        name = m.group(1)
        if name == "id":
            return str(obj.pk)
        if name == "record":
            return str(obj)
        try:
            value = getattr(obj, name)
        except Exception:
            value = (getattr(obj, "custom_fields", None) or {}).get(name, "")
        if callable(value):
            return ""
        return "" if value is None else str(value)
    return TEMPLATE_RE.sub(repl, template or "")
