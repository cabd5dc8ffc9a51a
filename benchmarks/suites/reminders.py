"""Tasks and reminders at volume: 1,000,000 tasks (seeded here once, bulk inserts) next to the 1,000,000
customers; finding every due reminder (follow-ups due, tasks due soon / overdue, stalled deals) must stay
under 5 s; a re-run that finds everything already sent; the task lists and the calendar for the manager."""

from __future__ import annotations

import datetime

TASKS = 1_000_000
FIND_MS, RERUN_MS, LIST_MS, CAL_MS = 5000, 5000, 300, 300
TITLE_PREFIX = "bench-task"


def seed(ctx) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from yingdan.tasks.models import Priority, Status, Task

    have = Task.objects.filter(title__startswith=TITLE_PREFIX).count()
    if have >= TASKS:
        return
    users = list(get_user_model().objects.filter(is_active=True).order_by("id").values_list("pk", "department_id"))
    if not users:
        ctx.log("no users: tasks not seeded")
        return
    rng = ctx.rng
    now = timezone.now()
    statuses = [Status.OPEN] * 5 + [Status.IN_PROGRESS] * 2 + [Status.DONE] * 3 + [Status.CANCELLED]
    priorities = list(Priority.values)
    ctx.log(f"seeding {TASKS - have} tasks over {len(users)} users")
    batch = []
    for i in range(have, TASKS):
        owner, dept = users[rng.randrange(len(users))]
        status = statuses[rng.randrange(len(statuses))]
        due = now + datetime.timedelta(minutes=rng.randrange(-180 * 1440, 180 * 1440))
        batch.append(Task(
            title=f"{TITLE_PREFIX} {i}", owner_id=owner, department_id=dept, created_by_id=owner, due_at=due,
            priority=priorities[rng.randrange(len(priorities))], status=status,
            completed_at=due if status == Status.DONE else None,
        ))
        if len(batch) >= 20_000:
            with transaction.atomic():
                Task.objects.bulk_create(batch)
            batch = []
            if i % 200_000 < 20_000:
                ctx.log(f"  {i + 1} tasks")
    if batch:
        with transaction.atomic():
            Task.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Task._meta.db_table}")


def run(ctx) -> dict:
    from django.urls import reverse
    from django.utils import timezone

    from yingdan.customers.models import Customer
    from yingdan.notifications.models import Notification
    from yingdan.tasks import reminders
    from yingdan.tasks.models import Task

    results = {}
    now = timezone.now()
    found = reminders.find_due(now)
    ctx.log(f"{Task.objects.count()} tasks, {Customer.objects.count()} customers; due now: "
            + ", ".join(f"{k}={len(v)}" for k, v in found.items()))
    n = max(3, ctx.repeat // 6)
    results |= ctx.time_call("find_due_reminders_all_kinds", lambda i: reminders.find_due(now), FIND_MS, n=n)
    for key in ("followup_due", "task_due", "task_overdue", "deal_stalled"):
        finder = reminders.reminder_kinds[key].finder
        results |= ctx.time_call(f"finder_{key}", lambda i, f=finder: list(f(now)), FIND_MS, n=n)

    # The periodic run: the first pass sends (kept out of the numbers), later passes find everything sent.
    last_id = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    kinds = [k for k, kind in reminders.reminder_kinds.items() if kind.finder is not None]
    try:
        sent = reminders.run_due_reminders(now)
        ctx.log(f"first run sent {sent}")
        results |= ctx.time_call("run_due_reminders_all_sent_already", lambda i: reminders.run_due_reminders(now), RERUN_MS, n=3)
    finally:
        # Leave the benchmark database as it was (the next run measures a first pass again).
        Notification.objects.filter(kind__in=kinds, id__gt=last_id).delete()

    htmx = {"HX-Request": "true"}
    today = timezone.localdate().isoformat()
    results |= ctx.time_http("my_tasks_list", lambda i: reverse("tasks:my_tasks"), LIST_MS)
    results |= ctx.time_http("team_tasks_overdue", lambda i: reverse("tasks:task_list") + "?overdue=true", LIST_MS)
    results |= ctx.time_http("calendar_month_team", lambda i: reverse("tasks:calendar") + f"?scope=team&date={today}", CAL_MS)
    results |= ctx.time_http("calendar_week_team_htmx", lambda i: reverse("tasks:calendar") + f"?scope=team&mode=week&date={today}", CAL_MS, htmx)
    return results
