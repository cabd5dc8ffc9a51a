"""The reminder registry and the due-reminder run.

`register_reminder_kind(key, label, finder)`: a finder `finder(now)` yields `Reminder`s — (recipient, record,
due moment, dedupe key, title, url) — for what is due now, with set-based queries. `run_due_reminders()` (a
huey periodic task every few minutes) runs every finder and sends each reminder through
`notifications.services.notify(..., dedupe_key=...)`. Every notification is written in its own transaction
and the dedupe key is unique per recipient, so a worker killed mid-batch and restarted sends each reminder
exactly once. Kinds without a finder (mentions, transfer requests) are notified immediately by their apps and
are registered here only so preferences can address them; `runner` kinds (the pool recycle warning) run their
own job.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core import registry

log = logging.getLogger(__name__)

# How long before its due time a task is reminded of (minutes); setting TASK_REMINDER_MINUTES.
TASK_DUE_SOON_MINUTES = int(getattr(settings, "TASK_REMINDER_MINUTES", 60))
# Overdue reminders look back this far (the periodic run comes every few minutes; older misses stay quiet).
OVERDUE_WINDOW = datetime.timedelta(days=1)


@dataclass
class Reminder:
    recipient_id: int
    model: object  # the record's model class, or None (a digest)
    record_id: object
    due: object  # datetime or date
    dedupe_key: str
    title: str
    body: str = ""
    url: str = ""

    @property
    def record(self):
        """A reference to the record (pk only; finders read plain rows, not model instances)."""
        return self.model(pk=self.record_id) if self.model is not None else None


def _url_pattern(name: str):
    """reverse() once per finder: the detail URL with the pk substituted per row."""
    base = reverse(name, args=[987654321])
    return lambda pk: base.replace("987654321", str(pk))


@dataclass
class ReminderKind:
    key: str
    label: object
    finder: object = None  # callable(now) -> iterable[Reminder]
    runner: object = None  # callable(now) -> int, for kinds that send their own notifications
    immediate: bool = False  # sent by their app at once (mentions, transfer requests)
    extra: dict = field(default_factory=dict)


reminder_kinds: dict[str, ReminderKind] = {}


def register_reminder_kind(key: str, label, finder=None, *, runner=None, immediate: bool = False) -> ReminderKind:
    """Register a reminder kind (also a notification kind, so notify() and the preferences know it)."""
    kind = ReminderKind(key, label, finder=finder, runner=runner, immediate=immediate)
    reminder_kinds[key] = kind
    if key not in registry.notification_kinds:
        registry.register_notification_kind(key, label)
    return kind


def find_due(now=None) -> dict[str, list[Reminder]]:
    """Every due reminder per kind, without sending anything (used by the run and the benchmark)."""
    now = now or timezone.now()
    return {key: list(kind.finder(now)) for key, kind in reminder_kinds.items() if kind.finder is not None}


def run_due_reminders(now=None, *, send=None) -> dict[str, int]:
    """Send every due reminder once. Returns {kind: notifications created in this run}."""
    from yingdan.notifications.services import notify

    send = send or notify
    now = now or timezone.now()
    users = get_user_model().objects
    sent: dict[str, int] = {}
    for key, kind in reminder_kinds.items():
        if kind.runner is not None:
            sent[key] = kind.runner(now) or 0
            continue
        if kind.finder is None:
            continue
        count = 0
        batch = list(kind.finder(now))
        recipients = users.in_bulk({r.recipient_id for r in batch})
        already = _already_sent(batch)
        for reminder in batch:
            user = recipients.get(reminder.recipient_id)
            if user is None or f"{reminder.dedupe_key}:{user.pk}" in already:
                continue
            created = send([user], key, reminder.title, body=reminder.body, url=reminder.url,
                           target=reminder.record, dedupe_key=reminder.dedupe_key)
            count += len(created)
        sent[key] = count
    return sent


def _already_sent(batch, chunk: int = 1000) -> set[str]:
    """Dedupe keys (as notify() stores them: key:recipient) already sent, read in chunks through the unique
    index, so a run that finds everything sent costs a few queries instead of one per reminder. notify() still
    checks each key itself: this is only a shortcut."""
    from yingdan.notifications.models import Notification

    keys = [f"{r.dedupe_key}:{r.recipient_id}" for r in batch]
    found: set[str] = set()
    for i in range(0, len(keys), chunk):
        found.update(Notification.objects.filter(dedupe_key__in=keys[i:i + chunk]).values_list("dedupe_key", flat=True))
    return found


# -- the built-in finders ---------------------------------------------------------------------------------------
def followups_due(now):
    """One digest per owner and day: follow-ups planned for today or earlier on their customers and leads
    (grouped over the (owner, next_followup_at) indexes; records in a public pool have no owner)."""
    from yingdan.customers.models import Customer
    from yingdan.leads.models import Lead

    today = timezone.localdate(now)
    per_owner: dict[int, dict] = {}
    for model, label in ((Customer, "customers"), (Lead, "leads")):
        rows = (model.objects.filter(next_followup_at__lte=today, owner__isnull=False).order_by()
                .values("owner_id").annotate(n=Count("pk"), first=Min("next_followup_at")))
        for row in rows:
            entry = per_owner.setdefault(row["owner_id"], {"customers": 0, "leads": 0, "overdue": False})
            entry[label] += row["n"]
            entry["overdue"] |= row["first"] < today
    url = reverse("followups:due_list")
    for owner_id, entry in per_owner.items():
        yield Reminder(
            recipient_id=owner_id, model=None, record_id=None, due=today, dedupe_key=f"followup-due:{today.isoformat()}",
            title=_("Follow-ups due: %(c)d customers, %(l)d leads") % {"c": entry["customers"], "l": entry["leads"]},
            body=_("Some are overdue.") if entry["overdue"] else "", url=url,
        )


def tasks_due_soon(now):
    from .models import OPEN_STATUSES, Task

    horizon = now + datetime.timedelta(minutes=TASK_DUE_SOON_MINUTES)
    qs = (Task.objects.filter(status__in=OPEN_STATUSES, due_at__gte=now, due_at__lte=horizon, owner__isnull=False)
          .order_by().values_list("pk", "title", "owner_id", "due_at"))
    url = _url_pattern("tasks:task_detail")
    template = _("Task due at %(t)s: %(title)s")
    for pk, title, owner_id, due_at in qs.iterator(chunk_size=2000):
        yield Reminder(
            recipient_id=owner_id, model=Task, record_id=pk, due=due_at,
            dedupe_key=f"task-due:{pk}:{int(due_at.timestamp())}",
            title=template % {"t": timezone.localtime(due_at).strftime("%H:%M"), "title": title}, url=url(pk),
        )


def tasks_overdue(now):
    from .models import OPEN_STATUSES, Task

    qs = (Task.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now, due_at__gte=now - OVERDUE_WINDOW, owner__isnull=False)
          .order_by().values_list("pk", "title", "owner_id", "due_at"))
    url = _url_pattern("tasks:task_detail")
    template = _("Task overdue: %(title)s")
    for pk, title, owner_id, due_at in qs.iterator(chunk_size=2000):
        yield Reminder(
            recipient_id=owner_id, model=Task, record_id=pk, due=due_at,
            dedupe_key=f"task-overdue:{pk}:{int(due_at.timestamp())}",
            title=template % {"title": title}, url=url(pk),
        )


def deals_stalled(now):
    """Open opportunities longer in their stage than the stage's time limit; once per stay in a stage."""
    from yingdan.opportunities.models import Opportunity, Stage, StageKind

    url = _url_pattern("opportunities:opportunity_detail")
    template = _("Deal stalled in “%(stage)s” for more than %(d)d days: %(name)s")
    stages = {st.pk: st for st in Stage.objects.filter(time_limit_days__isnull=False, time_limit_days__gt=0)
              .only("pk", "name", "time_limit_days")}
    if not stages:
        return
    # One pass over the open deals for every stage with a limit (not one scan per stage).
    q = Q()
    for st in stages.values():
        q |= Q(stage_id=st.pk, stage_entered_at__lt=now - datetime.timedelta(days=st.time_limit_days))
    qs = (Opportunity.objects.filter(q, state=StageKind.OPEN, owner__isnull=False)
          .order_by().values_list("pk", "name", "owner_id", "stage_id", "stage_entered_at"))
    for pk, name, owner_id, stage_id, entered in qs.iterator(chunk_size=5000):
        st = stages[stage_id]
        yield Reminder(
            recipient_id=owner_id, model=Opportunity, record_id=pk, due=entered + datetime.timedelta(days=st.time_limit_days),
            dedupe_key=f"deal-stalled:{pk}:{stage_id}:{int(entered.timestamp())}",
            title=template % {"stage": st.name, "d": st.time_limit_days, "name": name}, url=url(pk),
        )


def pool_warnings(now):
    from yingdan.pools.services import warn_due

    return warn_due(now)


def register_builtin_kinds() -> None:
    register_reminder_kind("followup_due", gettext_lazy("Follow-ups due today or overdue"), followups_due)
    register_reminder_kind("task_due", gettext_lazy("Task due soon"), tasks_due_soon)
    register_reminder_kind("task_overdue", gettext_lazy("Task overdue"), tasks_overdue)
    register_reminder_kind("deal_stalled", gettext_lazy("Deal stalled in a stage"), deals_stalled)
    register_reminder_kind("pool_recycle_warning", gettext_lazy("Records about to return to a public pool"), runner=pool_warnings)
    register_reminder_kind("mention", gettext_lazy("Mentioned in a comment"), immediate=True)
    register_reminder_kind("transfer_request", gettext_lazy("Transfer request"), immediate=True)
    registry.register_notification_kind("task_assigned", gettext_lazy("Task assigned to you"))
