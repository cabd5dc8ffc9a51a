"""Build a rule in the real browser (HTMX builder) and see it fire in its run log."""

import pytest

from yingdan.automation.models import AutomationRule
from yingdan.core.tests import factories
from yingdan.notifications.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_build_rule_in_ui_and_see_it_fire(page, live_server, login):
    team = factories.make_department("规则一组")
    factories.make_user("rule_admin", ["admin"], team)
    rep = factories.make_user("rule_rep", ["rep"], team)

    login(page, live_server, "rule_admin", factories.PASSWORD)
    page.goto(f"{live_server.url}/automation/rules/add/")
    page.fill('[data-testid="rule-name"]', "科技客户提醒")
    page.select_option('[data-testid="rule-object"]', "customers.customer")
    page.wait_for_load_state("networkidle")
    page.click('[data-testid="add-condition"]')
    page.wait_for_selector('[data-testid="cond-row"]')
    row = page.locator('[data-testid="cond-row"]').first
    row.locator('select[name="cond_field"]').select_option("name")
    row.locator('select[name="cond_op"]').select_option("contains")
    row.locator('input[name="cond_value"]').fill("科技")
    act = page.locator('[data-testid="act-row"]').first
    act.locator('select[name="act_to"]').select_option("owner")
    act.locator('input[name="act_title"]').fill("新科技客户 {{name}}")
    page.click('[data-testid="rule-save"]')
    page.wait_for_selector('[data-testid="run-log"]')
    rule = AutomationRule.objects.get(name="科技客户提醒")
    assert rule.conditions["rules"] == [{"field": "name", "op": "contains", "value": "科技"}]

    factories.make_customer(rep, name="星河科技有限公司")
    factories.make_customer(rep, name="星河贸易有限公司")
    page.reload()
    page.wait_for_selector('[data-testid="run-row"][data-result="ok"]')
    assert page.locator('[data-testid="run-row"]').count() == 1
    assert Notification.objects.filter(recipient=rep, kind="automation", title="新科技客户 星河科技有限公司").exists()
