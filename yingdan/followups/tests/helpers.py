"""Follow-up test data, created through the real service."""

from __future__ import annotations

import datetime
import itertools

from django.utils import timezone

from yingdan.core.models import Lookup
from yingdan.followups import services
from yingdan.followups.models import FollowUp

_minutes = itertools.count(1)


def followup_type(code: str = "call") -> Lookup:
    return Lookup.objects.get(kind="followup_type", code=code)


def make_followup(author, *, customer=None, lead=None, occurred_at=None, content=None, type_code="call", **kw) -> FollowUp:
    if occurred_at is None:
        occurred_at = timezone.now() - datetime.timedelta(minutes=next(_minutes) * 7)
    followup = FollowUp(
        customer=customer, lead=lead, type=followup_type(type_code), occurred_at=occurred_at,
        content=content or f"沟通了需求 #{next(_minutes)}", **kw,
    )
    return services.save_followup(author, followup)
