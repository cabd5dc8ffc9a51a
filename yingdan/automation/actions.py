"""What a matched rule does. Each action returns a short message for the run log and raises on failure."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.notifications.services import notify

from .engine import RuleConfigError, check_field, render

ACTION_TYPES = ["notify", "create_task", "set_field", "assign", "robot", "webhook"]

# The domain service that saves each object (permission, scope, validation, change log).
SAVERS = {
    "customers.customer": ("yingdan.customers.services", "save_customer"),
    "customers.contact": ("yingdan.customers.services", "save_contact"),
    "leads.lead": ("yingdan.leads.services", "save_lead"),
    "opportunities.opportunity": ("yingdan.opportunities.services", "save_opportunity"),
    "tasks.task": ("yingdan.tasks.services", "save_task"),
}


def _actor(rule):
    actor = rule.created_by
    if actor is None or not actor.is_active:
        raise PermissionError(_("The rule's creator is missing or inactive."))
    return actor


def _save(rule, obj, *, custom_fields=None):
    label = obj._meta.label_lower
    saver = SAVERS.get(label)
    if saver is None:
        obj.save()
        return obj
    func = getattr(importlib.import_module(saver[0]), saver[1])
    kwargs = {"custom_fields": custom_fields} if custom_fields is not None else {}
    if label in ("customers.customer", "customers.contact", "leads.lead", "opportunities.opportunity"):
        kwargs["confirm_duplicates"] = True
    return func(_actor(rule), obj, **kwargs)


def recipients(obj, spec) -> list:
    User = get_user_model()
    out = []
    owner = getattr(obj, "owner", None)
    if spec.get("owner") and owner is not None:
        out.append(owner)
    if spec.get("manager") and owner is not None and owner.department_id:
        manager = owner.department.manager
        if manager is not None:
            out.append(manager)
    if spec.get("users"):
        out += list(User.objects.filter(pk__in=spec["users"], is_active=True))
    if spec.get("roles"):
        out += list(User.objects.filter(roles__in=spec["roles"], is_active=True).distinct())
    return out


def run(rule, obj, spec: dict, event_name: str) -> str:
    kind = spec.get("type")
    handler = {"notify": do_notify, "create_task": do_create_task, "set_field": do_set_field,
               "assign": do_assign, "robot": do_robot, "webhook": do_webhook}.get(kind)
    if handler is None:
        raise RuleConfigError(_("Unknown action %(a)s.") % {"a": kind})
    return handler(rule, obj, spec, event_name)


def do_notify(rule, obj, spec, event_name) -> str:
    users = recipients(obj, spec)
    title = render(spec.get("title") or rule.name, obj)[:200]
    url = obj.get_absolute_url() if hasattr(obj, "get_absolute_url") else ""
    sent = notify(users, "automation", title, body=render(spec.get("body", ""), obj), url=url, target=obj)
    return _("notified %(n)s") % {"n": len(sent)}


def do_create_task(rule, obj, spec, event_name) -> str:
    if not apps.is_installed("yingdan.tasks"):
        return _("skipped: tasks are not installed")
    from django.contrib.contenttypes.models import ContentType

    from yingdan.tasks.models import Task
    from yingdan.tasks.services import save_task

    assignee = getattr(obj, "owner", None)
    if spec.get("assignee"):
        assignee = get_user_model().objects.filter(pk=spec["assignee"]).first() or assignee
    task = Task(title=render(spec.get("title") or rule.name, obj)[:200], description=render(spec.get("description", ""), obj),
                owner=assignee, target_type=ContentType.objects.get_for_model(obj), target_id=obj.pk,
                due_at=timezone.now() + timedelta(days=int(spec.get("due_in_days") or 0)))
    save_task(_actor(rule), task)
    return _("task %(id)s created") % {"id": task.pk}


def do_set_field(rule, obj, spec, event_name) -> str:
    path = spec.get("field", "")
    check_field(obj._meta.label_lower, path)
    value = spec.get("value")
    if path.startswith("custom_fields__"):
        _save(rule, obj, custom_fields={path.split("__", 1)[1]: value})
    else:
        field = obj._meta.get_field(path)
        setattr(obj, field.attname, field.to_python(value) if value not in (None, "") else None)
        _save(rule, obj)
    return _("%(f)s set") % {"f": path}


def do_assign(rule, obj, spec, event_name) -> str:
    from yingdan.leads.services import pick_owners
    from yingdan.org.models import Department

    department = Department.objects.filter(pk=spec.get("department")).first() or getattr(obj, "department", None)
    if department is None:
        raise RuleConfigError(_("The team to assign from does not exist."))
    object_type = "customer" if obj._meta.label_lower == "customers.customer" else "lead"
    owners = pick_owners(department, 1, object_type=object_type)
    if not owners:
        return _("skipped: nobody to assign")
    obj.owner = owners[0]
    _save(rule, obj)
    return _("assigned to %(u)s") % {"u": owners[0]}


def do_robot(rule, obj, spec, event_name) -> str:
    if not apps.is_installed("yingdan.integrations"):
        return _("skipped: robots are not installed")
    from yingdan.integrations.models import Robot
    from yingdan.integrations.services import enqueue_robot_message

    robot = Robot.objects.filter(pk=spec.get("robot")).first()
    if robot is None:
        raise RuleConfigError(_("The robot does not exist."))
    enqueue_robot_message(robot, render(spec.get("title") or rule.name, obj), render(spec.get("text", ""), obj),
                          dedupe_key=None)
    return _("message queued to %(r)s") % {"r": robot}


def do_webhook(rule, obj, spec, event_name) -> str:
    if not apps.is_installed("yingdan.integrations"):
        return _("skipped: webhooks are not installed")
    import uuid

    from yingdan.integrations.models import Webhook
    from yingdan.integrations.services import create_deliveries
    from yingdan.integrations.tasks import deliver_webhooks

    hook = Webhook.objects.filter(pk=spec.get("webhook")).first()
    if hook is None:
        raise RuleConfigError(_("The webhook does not exist."))
    payload = {"rule": rule.pk, "event": event_name, "model": obj._meta.label_lower, "id": obj.pk,
               "text": render(spec.get("text", ""), obj)}
    ids = create_deliveries([hook.pk], "automation.rule.fired", uuid.uuid4().hex, payload)
    if ids:
        deliver_webhooks(ids)
    return _("webhook delivery queued")
