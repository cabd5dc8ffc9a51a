"""Every write to tasks goes through these functions (web, API, calendar drag, handover, automation)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions
from yingdan.core.services import (
    check_field_permissions,
    delete_visible,
    ensure_visible,
    lock_visible,
    require,
)

from .models import LINKABLE_MODELS, OPEN_STATUSES, Status, Task


def linkable_type(label: str):
    """The ContentType for a linkable model label ("customers.customer"), or None."""
    if label not in LINKABLE_MODELS:
        return None
    app_label, model = label.split(".")
    try:
        return ContentType.objects.get_by_natural_key(app_label, model)
    except ContentType.DoesNotExist:
        return None


def check_target(actor, task: Task) -> None:
    """The linked record must be of a linkable kind and visible to the actor (else the link is refused)."""
    if not task.target_type_id and not task.target_id:
        task.target_type = None
        task.target_id = None
        return
    if not task.target_type_id or not task.target_id:
        raise ValidationError({"target_id": [_("Choose both the kind of record and the record.")]})
    ct = ContentType.objects.get_for_id(task.target_type_id)
    if f"{ct.app_label}.{ct.model}" not in LINKABLE_MODELS:
        raise ValidationError({"target_type": [_("Tasks cannot be linked to this kind of record.")]})
    model = ct.model_class()
    module = getattr(model, "permission_module", "")
    if (not module or not get_permissions(actor).has(module, Action.VIEW)
            or not model.objects.visible_to(actor, Action.VIEW).filter(pk=task.target_id).exists()):
        raise ValidationError({"target_id": [_("Choose a record you have access to.")]})


@transaction.atomic
def save_task(actor, task: Task, *, collaborators=None) -> Task:
    """Create or update a task. Assigning it to someone else needs 'transfer' (or, for a new task, being its
    creator with a department scope that covers the assignee is enough: the scope check below)."""
    is_new = task.pk is None
    if is_new:
        require(actor, "tasks", Action.CREATE)
        if task.owner_id is None:
            task.owner = actor
        task.created_by = actor
        owner_changed = task.owner_id != actor.pk
    else:
        require(actor, "tasks", Action.EDIT)
        current = lock_visible(actor, Task, task.pk, Action.EDIT)
        owner_changed = current.owner_id != task.owner_id
        if not hasattr(task, "_changelog_snapshot"):
            task._changelog_snapshot = current._changelog_snapshot
    if owner_changed and not get_permissions(actor).has("tasks", Action.TRANSFER):
        raise ValidationError({"owner": [_("You may not assign tasks to someone else.")]})
    if task.owner_id and not task.owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    check_target(actor, task)
    if task.status == Status.DONE and task.completed_at is None:
        task.completed_at = timezone.now()
    elif task.status != Status.DONE:
        task.completed_at = None
    task.sync_department()
    task.full_clean()
    check_field_permissions(actor, task, allowed={"owner", "department"} if is_new else {"department"})
    task.save()
    if collaborators is not None:
        task.collaborators.set(collaborators)
    if not owner_changed:
        ensure_visible(actor, task, Action.VIEW)
    elif task.owner_id:
        _notify_assigned(actor, [task], task.owner)
    return task


def _notify_assigned(actor, tasks, owner) -> None:
    from yingdan.notifications.services import notify

    if not tasks:
        return
    title = (_("Task assigned to you: %(title)s") % {"title": tasks[0].title} if len(tasks) == 1
             else _("%(n)d tasks assigned to you") % {"n": len(tasks)})
    notify([owner], "task_assigned", title, actor=actor,
           url=tasks[0].get_absolute_url() if len(tasks) == 1 else reverse("tasks:my_tasks"),
           target=tasks[0] if len(tasks) == 1 else None)


@transaction.atomic
def complete_task(actor, task_or_pk) -> tuple[Task, Task | None]:
    """Mark a task done; a repeating task gets its next occurrence (created once, linked by `previous`)."""
    require(actor, "tasks", Action.EDIT)
    pk = getattr(task_or_pk, "pk", task_or_pk)
    task = lock_visible(actor, Task, pk, Action.EDIT)
    if task.status == Status.DONE:
        return task, getattr(task, "next_occurrence", None)
    if task.status == Status.CANCELLED:
        raise ValidationError(_("A cancelled task cannot be completed; reopen it first."))
    task.status = Status.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    nxt = None
    due = task.next_due()
    if due is not None and not Task.objects.filter(previous=task).exists():
        nxt = Task(
            title=task.title, description=task.description, owner_id=task.owner_id, department_id=task.department_id,
            due_at=due, priority=task.priority, status=Status.OPEN, target_type_id=task.target_type_id,
            target_id=task.target_id, recurrence=task.recurrence, recurrence_interval=task.recurrence_interval,
            recurrence_until=task.recurrence_until, previous=task, created_by=actor,
        )
        nxt.save()
        nxt.collaborators.set(task.collaborators.all())
    return task, nxt


@transaction.atomic
def set_status(actor, task_or_pk, status: str) -> Task:
    """Reopen, start or cancel (done goes through complete_task for the recurrence)."""
    if status == Status.DONE:
        return complete_task(actor, task_or_pk)[0]
    if status not in Status.values:
        raise ValidationError({"status": [_("Unknown status.")]})
    require(actor, "tasks", Action.EDIT)
    task = lock_visible(actor, Task, getattr(task_or_pk, "pk", task_or_pk), Action.EDIT)
    task.status = status
    task.completed_at = None
    task.save(update_fields=["status", "completed_at", "updated_at"])
    return task


def reopen_task(actor, task_or_pk) -> Task:
    return set_status(actor, task_or_pk, Status.OPEN)


@transaction.atomic
def reschedule_task(actor, task_or_pk, due_at) -> Task:
    """Move the due time (calendar drag and drop)."""
    require(actor, "tasks", Action.EDIT)
    task = lock_visible(actor, Task, getattr(task_or_pk, "pk", task_or_pk), Action.EDIT)
    if due_at is None:
        raise ValidationError({"due_at": [_("Choose a due time.")]})
    task.due_at = due_at
    task.save(update_fields=["due_at", "updated_at"])
    return task


@transaction.atomic
def delete_task(actor, task: Task) -> None:
    require(actor, "tasks", Action.DELETE)
    lock_visible(actor, Task, task.pk, Action.DELETE).delete()


def delete_tasks(actor, ids) -> int:
    return delete_visible(actor, Task, ids)


@transaction.atomic
def reassign_tasks(actor, task_ids, new_owner, *, open_only: bool = False) -> int:
    """Give several tasks to another user (bulk reassign, handover). Needs 'transfer'; each change is audited."""
    require(actor, "tasks", Action.TRANSFER)
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    qs = Task.objects.visible_to(actor, Action.TRANSFER).select_for_update().filter(pk__in=list(task_ids))
    if open_only:
        qs = qs.filter(status__in=OPEN_STATUSES)
    moved = []
    for task in qs:
        if task.owner_id == new_owner.pk:
            continue
        task.owner = new_owner
        task.sync_department()
        task.save(update_fields=["owner", "department", "updated_at"])
        moved.append(task)
    _notify_assigned(actor, moved, new_owner)
    return len(moved)


# -- handover -----------------------------------------------------------------------------------------------
def handover_count(user) -> int:
    return Task.objects.filter(owner=user, status__in=OPEN_STATUSES).count()


def handover_ids(user) -> list[int]:
    return list(Task.objects.filter(owner=user, status__in=OPEN_STATUSES).order_by("pk").values_list("pk", flat=True))


def handover_transfer(actor, ids, new_owner) -> int:
    return reassign_tasks(actor, ids, new_owner, open_only=True)
