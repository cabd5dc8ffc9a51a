"""`notify()` is the one way to tell users something. It writes in-app notifications inside the caller's
transaction (so a rolled-back change notifies nobody); delivery to other channels (issue 5) hooks in here."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone

from yingdan.core import registry

from .models import Notification


def notify(recipients, kind: str, title, *, body: str = "", url: str = "", actor=None, target=None,
           dedupe_key: str | None = None) -> list[Notification]:
    """Notify each distinct active recipient (users or None entries are skipped; the actor is not notified
    of their own action). `dedupe_key` (suffixed with the recipient id) makes a re-run create nothing twice."""
    if kind not in registry.notification_kinds:
        raise ValueError(f"unknown notification kind {kind!r}")
    seen = set()
    out = []
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        if actor is not None and user.pk == actor.pk:
            continue
        seen.add(user.pk)
        note = Notification(
            recipient=user, kind=kind, title=str(title)[:200], body=str(body), url=url or "",
            actor=actor, target_type=target_type, target_id=target.pk if target is not None else None,
            dedupe_key=f"{dedupe_key}:{user.pk}" if dedupe_key else None,
        )
        if dedupe_key:
            if Notification.objects.filter(dedupe_key=note.dedupe_key).exists():
                continue
            try:
                with transaction.atomic():
                    note.save()
            except IntegrityError:
                continue
        else:
            note.save()
        out.append(note)
    return out


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


UNREAD_CAP = 99  # the bell shows "99+"; counting further would cost without telling more


def unread_badge(user) -> tuple[int, bool]:
    """(count, capped) of the user's unread notifications, counting at most UNREAD_CAP + 1 index entries."""
    n = Notification.objects.filter(recipient=user, read_at__isnull=True).order_by()[: UNREAD_CAP + 1].count()
    return min(n, UNREAD_CAP), n > UNREAD_CAP


def for_user(user):
    """The only way pages and the API read notifications: the user's own, newest first."""
    return Notification.objects.filter(recipient=user).order_by("-id")


def mark_read(user, notification_ids) -> int:
    """Mark the user's own notifications read (others' ids are ignored). Returns how many changed."""
    return Notification.objects.filter(
        recipient=user, pk__in=list(notification_ids), read_at__isnull=True
    ).update(read_at=timezone.now())


def mark_all_read(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
