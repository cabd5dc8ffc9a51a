"""Who is changing data, and through what: carried in a context variable so it works in web requests,
API calls, management commands and background jobs alike (the change log reads it)."""

from __future__ import annotations

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

from .choices import ChangeSource


@dataclass(frozen=True)
class ChangeContext:
    user: object | None = None
    source: str = ChangeSource.SYSTEM
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)


_current: ContextVar[ChangeContext | None] = ContextVar("yingdan_change_context", default=None)


def current() -> ChangeContext:
    """The active context; outside any (a shell, a bare script) it is an anonymous 'system' context."""
    ctx = _current.get()
    return ctx if ctx is not None else ChangeContext()


@contextlib.contextmanager
def change_context(user=None, source: str = ChangeSource.SYSTEM, request_id: str | None = None):
    token = _current.set(ChangeContext(user=user, source=source, request_id=request_id or uuid.uuid4().hex))
    try:
        yield current()
    finally:
        _current.reset(token)


def set_user(user) -> None:
    """Attach the authenticated user to the active context (DRF authenticates after middleware ran)."""
    ctx = current()
    _current.set(ChangeContext(user=user, source=ctx.source, request_id=ctx.request_id))
