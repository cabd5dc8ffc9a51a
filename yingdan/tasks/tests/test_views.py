"""Pages: lists with filters, add from a record, status changes, calendar, reschedule, bulk reassign, refused users."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests.factories import PASSWORD, make_customer, make_department, make_user

from ..models import Status, Task
from .helpers import make_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("页面组")
    e.other = make_department("页面二组")
    e.rep = make_user("vrep", ["rep"], e.team)
    e.rep2 = make_user("vrep2", ["rep"], e.other)
    e.manager = make_user("vmgr", ["manager"], e.team)
    e.nobody = make_user("vnobody", [], e.team)
    return e


def client_for(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_lists_and_filters(env):
    now = timezone.now()
    overdue = make_task(env.rep, title="逾期任务", due_at=now - datetime.timedelta(days=1), priority="high")
    make_task(env.rep, title="未来任务", due_at=now + datetime.timedelta(days=3))
    theirs = make_task(env.rep2, title="别组任务")
    c = client_for(env.rep)
    r = c.get(reverse("tasks:my_tasks"))
    assert r.status_code == 200 and "逾期任务" in r.content.decode() and "别组任务" not in r.content.decode()
    r = c.get(reverse("tasks:my_tasks"), {"overdue": "true"})
    body = r.content.decode()
    assert "逾期任务" in body and "未来任务" not in body
    r = c.get(reverse("tasks:task_list"), {"priority": "high", "status": "open"})
    assert "逾期任务" in r.content.decode() and "未来任务" not in r.content.decode()
    assert c.get(reverse("tasks:task_detail", args=[theirs.pk])).status_code == 404
    assert c.get(reverse("tasks:task_detail", args=[overdue.pk])).status_code == 200
    m = client_for(env.manager)
    assert "逾期任务" in m.get(reverse("tasks:task_list")).content.decode()


def test_refused_user(env):
    task = make_task(env.rep)
    c = client_for(env.nobody)
    for url in (reverse("tasks:my_tasks"), reverse("tasks:task_list"), reverse("tasks:calendar"), reverse("tasks:task_add"),
                reverse("tasks:task_detail", args=[task.pk])):
        assert c.get(url).status_code == 403, url
    assert c.post(reverse("tasks:task_status", args=[task.pk]), {"status": "done"}).status_code == 403
    task.refresh_from_db()
    assert task.status == Status.OPEN


def test_add_task_from_customer_page(env):
    customer = make_customer(env.rep, name="加任务客户")
    c = client_for(env.rep)
    page = c.get(reverse("customers:customer_detail", args=[customer.pk]), {"tab": "tasks"})
    assert page.status_code == 200 and 'data-testid="add-task"' in page.content.decode()
    url = reverse("tasks:task_add") + f"?target_type=customers.customer&target_id={customer.pk}"
    assert c.get(url).status_code == 200
    r = c.post(url, {"title": "回访客户", "due_at": "2026-12-01T10:00", "priority": "normal", "status": "open",
                     "target_type": "customers.customer", "target_id": customer.pk, "owner": env.rep.pk,
                     "recurrence": "", "recurrence_interval": 1, "next": customer.get_absolute_url()})
    assert r.status_code == 302, r.content.decode()[:2000]
    task = Task.objects.get(title="回访客户")
    assert task.target == customer and task.owner == env.rep
    # bad input: a record outside the scope is refused and nothing is saved
    other = make_customer(env.rep2, name="别人的客户")
    r = c.post(reverse("tasks:task_add"), {"title": "越权任务", "priority": "normal", "status": "open",
                                            "target_type": "customers.customer", "target_id": other.pk,
                                            "recurrence_interval": 1})
    assert r.status_code == 400 and not Task.objects.filter(title="越权任务").exists()
    timeline = c.get(reverse("customers:customer_detail", args=[customer.pk]))
    assert "回访客户" in timeline.content.decode()


def test_complete_reopen_and_bulk_reassign(env):
    task = make_task(env.rep, due_at=timezone.now(), recurrence="daily")
    c = client_for(env.rep)
    assert c.post(reverse("tasks:task_status", args=[task.pk]), {"status": "done"}).status_code == 302
    task.refresh_from_db()
    assert task.status == Status.DONE and Task.objects.filter(previous=task).count() == 1
    c.post(reverse("tasks:task_status", args=[task.pk]), {"status": "open"})
    task.refresh_from_db()
    assert task.status == Status.OPEN
    m = client_for(env.manager)
    r = m.post(reverse("tasks:task_bulk_reassign"), {"pk": [task.pk], "owner": env.manager.pk, "_apply": "1"})
    assert r.status_code == 302
    task.refresh_from_db()
    assert task.owner == env.manager


def test_calendar_week_month_and_reschedule(env):
    tz = timezone.get_current_timezone()
    due = datetime.datetime(2026, 11, 18, 15, 30, tzinfo=tz)
    task = make_task(env.rep, title="日历任务", due_at=due)
    c = client_for(env.rep)
    r = c.get(reverse("tasks:calendar"), {"date": "2026-11-18"})
    assert r.status_code == 200 and "日历任务" in r.content.decode() and 'data-day="2026-11-18"' in r.content.decode()
    r = c.get(reverse("tasks:calendar"), {"date": "2026-11-18", "mode": "week"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode() and "日历任务" in r.content.decode()
    r = c.get(reverse("tasks:calendar"), {"date": "2026-12-18"})
    assert "日历任务" not in r.content.decode()
    r = c.post(reverse("tasks:task_reschedule", args=[task.pk]), {"date": "2026-11-20"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    task.refresh_from_db()
    local = timezone.localtime(task.due_at)
    assert (local.date(), local.hour, local.minute) == (datetime.date(2026, 11, 20), 15, 30)
    assert c.post(reverse("tasks:task_reschedule", args=[task.pk]), {"date": "nonsense"}).status_code == 400
