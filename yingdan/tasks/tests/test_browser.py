"""In real Chromium: a rep adds a task from a customer's Tasks tab and finds it on the calendar."""

import datetime

import pytest
from django.utils import timezone

from yingdan.core.tests import factories

from ..models import Task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_task_from_customer_and_see_it_in_the_calendar(page, live_server, login):
    team = factories.make_department("任务浏览器组")
    rep = factories.make_user("task_rep", ["rep"], team, name="王芳")
    customer = factories.make_customer(rep, name="日历测试客户")
    login(page, live_server, "task_rep", factories.PASSWORD)

    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.click("[data-tab=tasks]")
    page.click("[data-testid=add-task]")
    page.wait_for_selector("input[name=title]")
    due = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    page.fill("input[name=title]", "电话回访日历客户")
    page.fill("input[name=due_at]", f"{due}T10:30")
    page.click("#object-form button[type=submit]")
    page.wait_for_url(f"**/customers/{customer.pk}/**")
    task = Task.objects.get(title="电话回访日历客户")
    assert task.target == customer and task.owner == rep

    page.goto(f"{live_server.url}/tasks/calendar/?mode=week&date={due}")
    cell = page.locator(f'td[data-day="{due}"] [data-testid=cal-task]')
    assert "电话回访日历客户" in cell.inner_text()
    page.click("[data-testid=cal-next]")
    page.wait_for_function("() => !document.querySelector('[data-testid=cal-task]')")
