"""Each reminder kind, and exactly-once delivery when the worker dies mid-batch and runs again."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.customers.models import Customer
from yingdan.leads.models import Lead
from yingdan.leads.tests.helpers import make_lead
from yingdan.notifications.models import Notification
from yingdan.notifications.services import notify
from yingdan.opportunities.models import Opportunity
from yingdan.opportunities.tests.helpers import make_opportunity

from .. import reminders, services
from ..models import Status
from .helpers import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("提醒组")
    e.rep = make_user("rrep1", ["rep"], e.team)
    e.rep2 = make_user("rrep2", ["rep"], e.team)
    return e


def test_kinds_registered():
    for key in ("followup_due", "task_due", "task_overdue", "deal_stalled", "pool_recycle_warning", "mention", "transfer_request"):
        assert key in reminders.reminder_kinds
    assert reminders.reminder_kinds["mention"].immediate


def test_task_due_soon_and_overdue(env):
    now = timezone.now()
    soon = make_task(env.rep, due_at=now + datetime.timedelta(minutes=30))
    later = make_task(env.rep, due_at=now + datetime.timedelta(hours=5))
    late = make_task(env.rep2, due_at=now - datetime.timedelta(hours=2))
    done = make_task(env.rep2, due_at=now - datetime.timedelta(hours=2))
    services.complete_task(env.rep2, done)
    found = reminders.find_due(now)
    assert [r.record.pk for r in found["task_due"]] == [soon.pk]
    assert [r.record.pk for r in found["task_overdue"]] == [late.pk]
    sent = reminders.run_due_reminders(now)
    assert sent["task_due"] == 1 and sent["task_overdue"] == 1
    assert Notification.objects.get(kind="task_due").recipient == env.rep
    assert Notification.objects.get(kind="task_overdue").target_id == late.pk
    assert later.pk not in Notification.objects.values_list("target_id", flat=True)
    # a second run sends nothing; rescheduling the task makes a new reminder
    assert reminders.run_due_reminders(now)["task_due"] == 0
    services.reschedule_task(env.rep, soon, now + datetime.timedelta(minutes=50))
    assert reminders.run_due_reminders(now)["task_due"] == 1


def test_followups_due_digest_per_owner(env):
    today = timezone.localdate()
    c1 = make_customer(env.rep, name="今天跟进客户")
    c2 = make_customer(env.rep, name="逾期跟进客户")
    c3 = make_customer(env.rep2, name="明天跟进客户")
    Customer.objects.filter(pk=c1.pk).update(next_followup_at=today)
    Customer.objects.filter(pk=c2.pk).update(next_followup_at=today - datetime.timedelta(days=3))
    Customer.objects.filter(pk=c3.pk).update(next_followup_at=today + datetime.timedelta(days=1))
    lead = make_lead(env.rep2)
    Lead.objects.filter(pk=lead.pk).update(next_followup_at=today)
    found = {r.recipient_id: r for r in reminders.find_due()["followup_due"]}
    assert set(found) == {env.rep.pk, env.rep2.pk}
    assert found[env.rep.pk].body  # some are overdue
    assert reminders.run_due_reminders()["followup_due"] == 2
    assert reminders.run_due_reminders()["followup_due"] == 0


def test_deal_stalled(env):
    opp = make_opportunity(env.rep)
    stage = opp.stage
    stage.time_limit_days = 10
    stage.save()
    assert reminders.find_due()["deal_stalled"] == []
    Opportunity.objects.filter(pk=opp.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=11))
    found = reminders.find_due()["deal_stalled"]
    assert [r.record.pk for r in found] == [opp.pk] and found[0].recipient_id == env.rep.pk
    assert reminders.run_due_reminders()["deal_stalled"] == 1
    assert reminders.run_due_reminders()["deal_stalled"] == 0


def test_pool_warning_is_wrapped(monkeypatch, env):
    calls = []
    monkeypatch.setattr("yingdan.pools.services.warn_due", lambda now=None: calls.append(now) or 3)
    assert reminders.run_due_reminders()["pool_recycle_warning"] == 3
    assert len(calls) == 1


class Crash(Exception):
    pass


def test_exactly_once_after_a_crash_mid_batch(env):
    now = timezone.now()
    tasks = [make_task(env.rep if i % 2 else env.rep2, due_at=now + datetime.timedelta(minutes=5 + i)) for i in range(10)]
    late = [make_task(env.rep, due_at=now - datetime.timedelta(minutes=5 + i)) for i in range(4)]
    calls = {"n": 0}

    def dying_notify(*args, **kwargs):
        if calls["n"] == 6:
            raise Crash()
        calls["n"] += 1
        return notify(*args, **kwargs)

    with pytest.raises(Crash):
        reminders.run_due_reminders(now, send=dying_notify)
    assert Notification.objects.count() == 6
    reminders.run_due_reminders(now)  # the restarted worker
    reminders.run_due_reminders(now)  # and the next periodic run
    per_task = {}
    for n in Notification.objects.filter(kind__in=["task_due", "task_overdue"]):
        per_task[(n.kind, n.target_id)] = per_task.get((n.kind, n.target_id), 0) + 1
    assert per_task == {**{("task_due", t.pk): 1 for t in tasks}, **{("task_overdue", t.pk): 1 for t in late}}


def test_closed_tasks_are_not_reminded(env):
    now = timezone.now()
    task = make_task(env.rep, due_at=now + datetime.timedelta(minutes=10))
    services.set_status(env.rep, task, Status.CANCELLED)
    assert reminders.find_due(now)["task_due"] == []
