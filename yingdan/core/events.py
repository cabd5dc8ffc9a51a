"""Domain events: what happened to which record, raised inside the transaction, delivered after commit.

Every change-log record (create/update/delete of any ChangeLoggedModel, inside or outside a request) raises
an event named "<app_label>.<model_name>.<action>" (e.g. "customers.customer.update"); services raise their
own for transitions that are not plain field changes (e.g. "opportunities.opportunity.stage_entered").

Handlers register with `registry.register_event_handler(func, on_commit=...)`:
- on_commit=True (webhooks, robots, rule actions that talk to the outside): queued with the transaction and
  called once it commits — a rolled-back change raises nothing;
- on_commit=False (rule evaluation that must see the change as part of the save): called at once, inside
  the transaction. Keep them fast (a save pays for them).
Handlers must not raise for ordinary failures; an exception in an on-commit handler is logged, not re-raised.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from . import context, registry

log = logging.getLogger(__name__)

# How deep we are in handlers raising further events (automation → save → event → automation ...).
_depth: ContextVar[int] = ContextVar("yingdan_event_depth", default=0)
MAX_DEPTH = 3


@dataclass
class Event:
    name: str
    model_label: str
    object_id: int | None
    action: str
    changes: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)
    actor_id: int | None = None
    source: str = ""
    request_id: str = ""
    at: object = None
    depth: int = 0
    instance: object = field(default=None, repr=False, compare=False)

    def payload(self) -> dict:
        """JSON-serialisable form (webhook bodies, job arguments)."""
        return {
            "event": self.name, "model": self.model_label, "id": self.object_id, "action": self.action,
            "changes": self.changes, "data": self.data, "actor_id": self.actor_id, "source": self.source,
            "request_id": self.request_id, "at": self.at.isoformat() if self.at else None,
        }


def current_depth() -> int:
    return _depth.get()


def emit(action: str, instance, *, changes: dict | None = None, data: dict | None = None, name: str | None = None) -> Event | None:
    """Raise an event about `instance`. Cheap when nothing listens."""
    if not registry.event_handlers:
        return None
    ctx = context.current()
    event = _event(ctx, _actor_id(ctx), timezone.now(), action, instance, changes, data, name)
    for handler in [h for h in registry.event_handlers if not h.on_commit]:
        _call(handler.func, event)
    deferred = [h for h in registry.event_handlers if h.on_commit]
    if deferred:
        transaction.on_commit(lambda: [_call(h.func, event, swallow=True) for h in deferred])
    return event


def _actor_id(ctx) -> int | None:
    return ctx.user.pk if getattr(ctx.user, "is_authenticated", False) else None


def _event(ctx, actor_id, at, action: str, instance, changes=None, data=None, name=None) -> Event:
    label = instance._meta.label_lower
    return Event(
        name=name or f"{label}.{action}", model_label=label, object_id=instance.pk, action=action,
        changes=changes or {}, data=data or {}, actor_id=actor_id, source=ctx.source,
        request_id=ctx.request_id, at=at, depth=_depth.get(), instance=instance,
    )


def emit_many(action: str, items) -> list[Event]:
    """`emit(action, instance, changes=changes)` for each (instance, changes), in order — for bulk writes (an
    import's batch): the batch shares one time, and its on-commit handlers are queued once (called for each
    event in order, as one callback per event would be)."""
    if not registry.event_handlers:
        return []
    ctx = context.current()
    actor_id, at = _actor_id(ctx), timezone.now()
    immediate = [h for h in registry.event_handlers if not h.on_commit]
    deferred = [h for h in registry.event_handlers if h.on_commit]
    out = []
    for instance, changes in items:
        event = _event(ctx, actor_id, at, action, instance, changes)
        for handler in immediate:
            _call(handler.func, event)
        out.append(event)
    if deferred and out:
        transaction.on_commit(lambda: [_call(h.func, e, swallow=True) for e in out for h in deferred])
    return out


def _call(func, event: Event, swallow: bool = False) -> None:
    token = _depth.set(event.depth + 1)
    try:
        func(event)
    except Exception:
        if not swallow:
            raise
        log.exception("event handler %r failed for %s", func, event.name)
    finally:
        _depth.reset(token)
