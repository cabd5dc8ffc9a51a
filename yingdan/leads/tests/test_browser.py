"""In real Chromium: a rep creates a lead, converts it, and lands on the customer page that names the lead."""

import pytest

from yingdan.core.tests import factories
from yingdan.customers.models import Contact, Customer
from yingdan.leads.models import Lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_create_lead_convert_and_see_it_on_the_customer(page, live_server, login):
    team = factories.make_department("浏览器组")
    factories.make_user("lead_rep", ["rep"], team, name="张伟")
    login(page, live_server, "lead_rep", factories.PASSWORD)

    page.goto(f"{live_server.url}/leads/add/")
    page.fill("input[name=name]", "陈晓明")
    page.fill("input[name=company]", "浏览器测试科技有限公司")
    page.fill("input[name=mobile]", "13800138000")
    page.click("#object-form button[type=submit]")
    page.wait_for_selector("[data-testid=lead-header]")
    lead = Lead.objects.get(name="陈晓明")
    assert lead.status.code == "new"

    page.click("[data-testid=lead-convert]")
    page.wait_for_selector("[data-testid=convert-form]")
    assert page.input_value("input[name=name]") == "浏览器测试科技有限公司"
    assert page.input_value("input[name=contact_mobile]") == "13800138000"
    page.click("[data-testid=convert-submit]")
    page.wait_for_url("**/customers/*/")

    customer = Customer.objects.get(name="浏览器测试科技有限公司")
    assert page.url.rstrip("/").endswith(f"/customers/{customer.pk}")
    assert Contact.objects.filter(customer=customer, mobile="13800138000").exists()
    lead.refresh_from_db()
    assert lead.converted_customer == customer and lead.status.code == "converted"

    page.click("[data-tab=leads]")
    page.wait_for_selector(f"[data-testid=customer-source-leads] tr[data-lead='{lead.pk}']")
    page.click(f"[data-testid=customer-source-leads] tr[data-lead='{lead.pk}'] a")
    page.wait_for_selector("[data-testid=lead-converted]")
    assert page.locator("[data-testid=lead-convert]").count() == 0
