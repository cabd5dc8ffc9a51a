"""The Foundation's end-to-end path in real Chromium: log in in Chinese, create a customer with a custom
field, find it by pinyin initials in the global search, and a rep of another department gets a 404."""

import re

import pytest

from yingdan.core.tests import factories
from yingdan.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_flow(browser, page, live_server, login):
    east = factories.make_department("华东大区")
    south = factories.make_department("华南大区")
    factories.make_user("zhangwei", ["rep"], east, name="张伟", mobile="13800138001")
    factories.make_user("lina", ["rep"], south, name="李娜")
    factories.make_custom_field(Customer, "budget", "money", label="年度预算", label_en="Annual budget", min_value=0)

    # Log in with the mobile number; the UI is Chinese (zh-CN browser).
    login(page, live_server, "13800138001", factories.PASSWORD)
    assert page.locator("html").get_attribute("lang").lower().startswith("zh")

    page.goto(f"{live_server.url}/customers/add/")
    page.fill("input[name=name]", "星辰数据科技有限公司")
    page.fill("input[name=credit_code]", factories.valid_credit_code(4242))
    page.fill("input[name=cf_budget]", "-1")
    page.click("#object-form button[type=submit]")
    # Invalid budget: the form comes back with a field message and nothing is saved.
    page.wait_for_selector("[data-error-for=cf_budget]")
    assert not Customer.objects.filter(name="星辰数据科技有限公司").exists()
    page.fill("input[name=cf_budget]", "500000")
    page.click("#object-form button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="星辰数据科技有限公司")
    assert customer.custom_fields == {"budget": "500000.00"}
    assert "¥500,000.00" in page.content()

    # Global search by pinyin initials (xcsjkj = 星辰数据科技).
    page.goto(f"{live_server.url}/")
    box = page.locator("input[name=q]").first
    box.click()
    box.type("xcsjkj", delay=30)
    hit = page.locator("#global-search-results a", has_text="星辰数据科技有限公司").first
    hit.wait_for()
    hit.click()
    page.wait_for_url(f"**/customers/{customer.pk}/")

    # A rep of another department: 404, and the name is not shown.
    other = browser.new_context(locale="zh-CN")
    try:
        other_page = other.new_page()
        login(other_page, live_server, "lina", factories.PASSWORD)
        response = other_page.goto(f"{live_server.url}/customers/{customer.pk}/")
        assert response.status == 404
        assert "星辰数据科技有限公司" not in other_page.content()
    finally:
        other.close()
