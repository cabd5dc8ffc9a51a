"""The key interaction in a real browser: add a follow-up from the customer page and see it on the timeline."""

import pytest

from yingdan.core.models import Lookup
from yingdan.core.tests import factories
from yingdan.followups.models import FollowUp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_followup_from_customer_page(page, live_server, login):
    team = factories.make_department("北京一组")
    rep = factories.make_user("fu_rep", ["rep"], team, name="孙丽")
    customer = factories.make_customer(rep, name="北京星辰科技有限公司", level=Lookup.objects.get(kind="customer_level", code="A"))
    login(page, live_server, "fu_rep", factories.PASSWORD)
    page.goto(f"{live_server.url}{customer.get_absolute_url()}")
    form = page.locator("[data-testid=quick-followup-form]")
    form.locator("textarea[name=content]").fill("电话沟通：客户下周安排演示")
    form.locator("[data-testid=quick-followup-save]").click()
    page.wait_for_selector("[data-testid=quick-saved]")
    entry = page.locator("[data-testid=followup-entry]").first
    assert "电话沟通：客户下周安排演示" in entry.inner_text()
    # a bad date is refused with a message, nothing saved
    form = page.locator("[data-testid=quick-followup-form]")
    form.locator("textarea[name=content]").fill("未来的记录")
    form.locator("input[name=occurred_at]").fill("2099-01-01T10:00")
    form.locator("[data-testid=quick-followup-save]").click()
    page.wait_for_selector("[data-error-for=occurred_at]")
    assert FollowUp.objects.count() == 1
    customer.refresh_from_db()
    assert customer.next_followup_at is not None
    # comment on it from the timeline
    entry = page.locator("[data-testid=followup-entry]").first
    entry.locator("textarea[name=body]").fill("@孙丽 记得发资料")
    entry.locator("button[type=submit]").click()
    page.wait_for_selector("[data-testid=comment]")
