"""`notify()` is the one way to tell users something. It writes in-app notifications inside the caller's
transaction (so a rolled-back change notifies nobody); delivery to other channels (issue 5) hooks in here."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from yingdan.core import registry

from .models import DEFAULT_CHANNELS, Channel, Notification, NotificationPreference

log = logging.getLogger(__name__)

# Group channels (robots) plug in here: func(kind, title, body, url, dedupe_key), called inside the caller's
# transaction when notify() created something; they queue their own delivery after commit.
channel_hooks: list = []


def register_channel(func) -> None:
    if func not in channel_hooks:
        channel_hooks.append(func)


def quiet_until(pref: NotificationPreference | None, now=None):
    """The end of the quiet period `now` falls in (aware datetime), or None when not quiet."""
    if pref is None or pref.quiet_start is None or pref.quiet_end is None or pref.quiet_start == pref.quiet_end:
        return None
    now = timezone.localtime(now or timezone.now())
    t, start, end = now.time(), pref.quiet_start, pref.quiet_end
    if start < end:
        inside = start <= t < end
        end_date = now.date()
    else:  # over midnight, e.g. 22:00-08:00
        inside = t >= start or t < end
        end_date = now.date() + datetime.timedelta(days=1) if t >= start else now.date()
    if not inside:
        return None
    return timezone.make_aware(datetime.datetime.combine(end_date, end), timezone.get_current_timezone())


def notify(recipients, kind: str, title, *, body: str = "", url: str = "", actor=None, target=None,
           dedupe_key: str | None = None) -> list[Notification]:
    """Notify each distinct active recipient (users or None entries are skipped; the actor is not notified
    of their own action). `dedupe_key` (suffixed with the recipient id) makes a re-run create nothing twice."""
    if kind not in registry.notification_kinds:
        raise ValueError(f"unknown notification kind {kind!r}")
    seen = set()
    out = []
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    recipients = [u for u in recipients if u is not None]
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(user__in=[u.pk for u in recipients])}
    now = timezone.now()
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
        pref = prefs.get(user.pk)
        channels = pref.channels_for(kind) if pref else DEFAULT_CHANNELS
        if Channel.IN_APP not in channels:
            note.read_at = now  # kept for history and idempotency, but not shown as unread
        if Channel.EMAIL in channels and user.email:
            note.email_state = "pending"
            note.email_due_at = quiet_until(pref, now)
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
    emails = [n.pk for n in out if n.email_state == "pending" and n.email_due_at is None]
    if emails:
        from .tasks import send_notification_emails

        transaction.on_commit(lambda: send_notification_emails(emails))
    if out:
        for hook in channel_hooks:
            hook(kind=kind, title=str(title), body=str(body), url=url or "", dedupe_key=dedupe_key)
    return out


def send_emails(ids=None, now=None) -> int:
    """Send pending e-mails (the given ones, or all that are due). Each row is marked once sent, so a
    restarted job sends nothing twice."""
    now = now or timezone.now()
    qs = Notification.objects.filter(email_state="pending").select_related("recipient")
    qs = qs.filter(pk__in=list(ids)) if ids is not None else qs
    from django.db.models import Q

    qs = qs.filter(Q(email_due_at__isnull=True) | Q(email_due_at__lte=now))
    sent = 0
    for note in qs.order_by("id")[:500]:
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        body = note.body + (f"\n\n{base}{note.url}" if note.url else "")
        try:
            send_mail(note.title, body, None, [note.recipient.email], fail_silently=False)
        except Exception as exc:  # SMTP down or refused: keep it visible, do not loop
            log.warning("notification e-mail %s failed: %s", note.pk, exc)
            Notification.objects.filter(pk=note.pk).update(email_state="failed")
            continue
        Notification.objects.filter(pk=note.pk).update(email_state="sent")
        sent += 1
    return sent


def get_preference(user) -> NotificationPreference:
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


@transaction.atomic
def save_preference(user, channels: dict, quiet_start=None, quiet_end=None) -> NotificationPreference:
    """Each user edits only their own preferences; unknown kinds or channels are refused."""
    from django.core.exceptions import ValidationError

    clean = {}
    valid = set(Channel.values)
    for kind, chans in (channels or {}).items():
        if kind not in registry.notification_kinds:
            raise ValidationError({"channels": f"unknown notification kind {kind!r}"}, code="invalid")
        if not isinstance(chans, list) or not set(chans) <= valid:
            raise ValidationError({"channels": f"channels of {kind!r} must be a list of {sorted(valid)}"}, code="invalid")
        clean[kind] = sorted(set(chans))
    if (quiet_start is None) != (quiet_end is None):
        raise ValidationError({"quiet_end": "give both ends of the quiet hours, or neither"}, code="invalid")
    pref = NotificationPreference.objects.select_for_update().filter(user=user).first() or NotificationPreference(user=user)
    pref.channels, pref.quiet_start, pref.quiet_end = clean, quiet_start, quiet_end
    pref.save()
    return pref


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
