"""Pool events on a record's timeline (customer 360 page, lead page)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from yingdan.core.registry import TimelineEntry

from .models import PoolEvent, PoolEventKind

ICONS = {
    PoolEventKind.CLAIM: "box-arrow-in-down",
    PoolEventKind.RELEASE: "box-arrow-up",
    PoolEventKind.ASSIGN: "person-check",
    PoolEventKind.TRANSFER: "arrow-left-right",
    PoolEventKind.RECYCLE: "recycle",
}


def pool_timeline(obj, user, *, before=None, limit=50) -> list[TimelineEntry]:
    qs = PoolEvent.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk)
    if before is not None:
        qs = qs.filter(at__lt=before)
    entries = []
    for event in qs.select_related("pool", "actor", "from_owner", "to_owner").order_by("-at", "-id")[:limit]:
        parts = []
        if event.from_owner:
            parts.append(f"{event.from_owner} →")
        if event.to_owner:
            parts.append(str(event.to_owner))
        elif event.pool:
            parts.append(str(event.pool))
        if event.reason:
            parts.append(f"（{event.reason}）")
        entries.append(TimelineEntry(
            at=event.at, kind="pool", title=event.get_kind_display(), body=" ".join(parts), actor=event.actor,
            icon=ICONS.get(event.kind, "water"), data={"pool_event": event.kind, "pool_id": event.pool_id},
        ))
    return entries
