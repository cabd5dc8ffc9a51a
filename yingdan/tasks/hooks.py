"""What the tasks app plugs into other apps: timelines (customer, lead, opportunity), a "Tasks" tab with an
"add task" action on those pages, and handover of open tasks."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions

from . import services
from .models import Status, Task

TIMELINE_MODELS = ["customers.customer", "leads.lead", "opportunities.opportunity"]
ICONS = {Status.DONE: "check2-square", Status.CANCELLED: "x-square"}


RECORD_TASKS_MAX = 1000  # tasks read per record page (the tab shows 100, the timeline pages by 50)


def tasks_of(user, obj):
    """The record's tasks inside the user's scope. The record's task ids are read first through the
    (target_type, target_id) index and handed to the scoped query as a list: combined in one statement, SQLite
    walked the whole task table in created_at order for the timeline's ORDER BY ... LIMIT (0.4 s at 1M tasks
    for a record with none)."""
    ct = ContentType.objects.get_for_model(type(obj))
    ids = list(Task.objects.filter(target_type=ct, target_id=obj.pk).order_by()
               .values_list("pk", flat=True)[:RECORD_TASKS_MAX])
    return Task.objects.visible_to(user).filter(pk__in=ids)


def timeline(obj, user, *, before=None, limit=50) -> list:
    """Tasks on the record, placed at their due time (else their creation)."""
    if not get_permissions(user).has("tasks", Action.VIEW):
        return []
    qs = tasks_of(user, obj).select_related("owner").order_by("-created_at", "-id")
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    entries = []
    for task in qs[:limit]:
        entries.append(registry.TimelineEntry(
            at=task.created_at, kind="task", title=_("Task: %(title)s") % {"title": task.title},
            body=" · ".join(str(x) for x in (task.get_status_display(), task.get_priority_display(),
                                              _("due %(d)s") % {"d": task.due_at.strftime("%Y-%m-%d %H:%M")} if task.due_at else "") if x),
            actor=task.owner, url=task.get_absolute_url(), icon=ICONS.get(task.status, "check2-circle"),
            data={"task": task.pk, "status": task.status},
        ))
    return entries


def add_task_url(obj) -> str:
    return reverse("tasks:task_add") + "?" + urlencode({
        "target_type": obj._meta.label_lower, "target_id": obj.pk, "next": obj.get_absolute_url(),
    })


def tab_context(request, obj) -> dict:
    perms = get_permissions(request.user)
    tasks = tasks_of(request.user, obj).select_related("owner").order_by("status", "due_at", "-id")[:100]
    return {"tasks": tasks, "can_add_task": perms.has("tasks", Action.CREATE), "add_task_url": add_task_url(obj)}


def register() -> None:
    registry.register_module("tasks", gettext_lazy("Tasks"), order=60)
    for label in TIMELINE_MODELS:
        registry.register_timeline_provider(label, timeline)
        registry.register_detail_tab(label, registry.DetailTab(
            key="tasks", label=gettext_lazy("Tasks"), template="tasks/_record_tab.html",
            context=tab_context, permission=("tasks", Action.VIEW), order=40,
        ))
    registry.register_handover_provider(registry.HandoverProvider(
        key="tasks", label=gettext_lazy("Open tasks"), count=services.handover_count,
        ids=services.handover_ids, transfer=services.handover_transfer, release=None, order=40,
    ))
