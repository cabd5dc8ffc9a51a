"""Tasks through the real services: CRUD, scope, refused users, linked records, recurrence, handover, timeline."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yingdan.core import registry
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.models import ObjectChange
from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.customers.models import Customer
from yingdan.notifications.models import Notification

from .. import services
from ..models import Recurrence, Status, Task
from .helpers import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("任务一组")
    e.other = make_department("任务二组")
    e.rep = make_user("trep1", ["rep"], e.team)
    e.rep2 = make_user("trep2", ["rep"], e.other)
    e.manager = make_user("tmgr", ["manager"], e.team)
    e.director = make_user("tdir", ["director"], e.team)
    e.nobody = make_user("tnobody", [], e.team)
    return e


def test_create_update_complete_delete(env):
    task = make_task(env.rep, due_at=timezone.now() + datetime.timedelta(days=1))
    assert task.owner == env.rep and task.department == env.team and task.status == Status.OPEN
    assert ObjectChange.objects.filter(object_id=task.pk, action="create").exists()
    task.title = "改过的任务"
    services.save_task(env.rep, task)
    task, nxt = services.complete_task(env.rep, task)
    assert task.status == Status.DONE and task.completed_at and nxt is None
    task = services.reopen_task(env.rep, task)
    assert task.status == Status.OPEN and task.completed_at is None
    with pytest.raises(PermissionDenied):  # reps may delete their own tasks? the rep role may
        services.delete_task(env.nobody, task)
    services.delete_task(env.rep, task)
    assert not Task.objects.filter(pk=task.pk).exists()


def test_scope_and_refused_user(env):
    mine = make_task(env.rep)
    theirs = make_task(env.rep2)
    assert set(Task.objects.visible_to(env.rep)) == {mine}
    assert set(Task.objects.visible_to(env.manager)) == {mine}  # department tree of 任务一组
    assert set(Task.objects.visible_to(env.director)) == {mine, theirs}
    assert not Task.objects.visible_to(env.nobody).exists()
    with pytest.raises(PermissionDenied):
        make_task(env.nobody)
    theirs.title = "x"
    with pytest.raises(ObjectNotVisible):
        services.save_task(env.rep, theirs)
    with pytest.raises(ObjectNotVisible):
        services.complete_task(env.rep, theirs.pk)


def test_assigning_to_someone_else_needs_transfer(env):
    with pytest.raises(ValidationError):
        make_task(env.rep2, actor=env.rep)
    task = make_task(env.rep, actor=env.manager)
    assert task.owner == env.rep
    assert Notification.objects.filter(recipient=env.rep, kind="task_assigned", target_id=task.pk).count() == 1
    assert services.reassign_tasks(env.manager, [task.pk], env.manager) == 1
    with pytest.raises(PermissionDenied):
        services.reassign_tasks(env.rep, [task.pk], env.rep)


def test_linked_record_must_be_visible(env):
    ct = ContentType.objects.get_for_model(Customer)
    own = make_customer(env.rep, name="自己的客户")
    other = make_customer(env.rep2, name="别人的客户")
    task = make_task(env.rep, target_type=ct, target_id=own.pk)
    assert task.target == own
    with pytest.raises(ValidationError) as exc:
        make_task(env.rep, target_type=ct, target_id=other.pk)
    assert "target_id" in exc.value.message_dict
    with pytest.raises(ValidationError):
        make_task(env.rep, target_type=ContentType.objects.get_for_model(Task), target_id=task.pk)
    assert Task.objects.count() == 1


@pytest.mark.parametrize("rule,interval,delta", [
    (Recurrence.DAILY, 1, datetime.timedelta(days=1)),
    (Recurrence.WEEKLY, 1, datetime.timedelta(weeks=1)),
    (Recurrence.EVERY_N_DAYS, 3, datetime.timedelta(days=3)),
])
def test_recurrence_creates_next_once(env, rule, interval, delta):
    due = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=2)
    task = make_task(env.rep, due_at=due, recurrence=rule, recurrence_interval=interval)
    _, nxt = services.complete_task(env.rep, task)
    assert nxt.due_at == due + delta and nxt.status == Status.OPEN and nxt.previous == task and nxt.recurrence == rule
    # completing again (double click) creates nothing more
    services.complete_task(env.rep, task)
    assert Task.objects.count() == 2


def test_monthly_recurrence_and_until(env):
    tz = timezone.get_current_timezone()
    task = make_task(env.rep, due_at=datetime.datetime(2026, 1, 31, 9, 0, tzinfo=tz), recurrence=Recurrence.MONTHLY,
                     recurrence_until=datetime.date(2026, 3, 1))
    _, nxt = services.complete_task(env.rep, task)
    assert timezone.localtime(nxt.due_at).date() == datetime.date(2026, 2, 28)
    _, last = services.complete_task(env.rep, nxt)
    assert last is None  # 2026-03-28 is after the until date


def test_handover_provider_moves_open_tasks_only(env):
    open_task = make_task(env.rep)
    done = make_task(env.rep)
    services.complete_task(env.rep, done)
    provider = registry.handover_providers["tasks"]
    assert provider.count(env.rep) == 1
    assert provider.ids(env.rep) == [open_task.pk]
    assert provider.transfer(env.director, provider.ids(env.rep), env.manager) == 1
    open_task.refresh_from_db()
    done.refresh_from_db()
    assert open_task.owner == env.manager and done.owner == env.rep


def test_timeline_entries_respect_scope(env):
    customer = make_customer(env.rep, name="时间线客户")
    ct = ContentType.objects.get_for_model(Customer)
    task = make_task(env.rep, target_type=ct, target_id=customer.pk)
    providers = registry.timeline_providers["customers.customer"]
    from ..hooks import timeline

    assert timeline in providers
    entries = timeline(customer, env.rep)
    assert [e.data["task"] for e in entries] == [task.pk] and entries[0].kind == "task"
    assert timeline(customer, env.nobody) == []
    assert timeline(customer, env.rep2) == []


def test_record_tasks_are_the_records_own_inside_the_scope(env):
    from ..hooks import tasks_of

    customer = make_customer(env.rep, name="任务客户")
    other = make_customer(env.rep, name="别的客户")
    ct = ContentType.objects.get_for_model(Customer)
    mine = make_task(env.rep, target_type=ct, target_id=customer.pk)
    make_task(env.rep, target_type=ct, target_id=other.pk)  # another record's task
    make_task(env.director, target_type=ct, target_id=customer.pk)  # on the record, outside rep's own scope
    assert list(tasks_of(env.rep, customer).values_list("pk", flat=True)) == [mine.pk]
