from __future__ import annotations

import itertools

from yingdan.core import context
from yingdan.core.choices import ChangeSource

from .. import services
from ..models import Task

_seq = itertools.count(1)


def make_task(owner, actor=None, **kw) -> Task:
    kw.setdefault("title", f"测试任务{next(_seq)}")
    task = Task(owner=owner, **kw)
    actor = actor or owner
    with context.change_context(user=actor, source=ChangeSource.SYSTEM):
        return services.save_task(actor, task)
