"""The handover wizard in real Chromium: pick the user, the preview follows the chosen mode and successors
without a page load, confirm through the dialog, land on the summary."""

import pytest
from playwright.sync_api import expect

from yingdan.core.tests import factories
from yingdan.customers.models import Customer
from yingdan.org.models import User

from .helpers import build_env

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_handover_wizard(page, live_server, login):
    env = build_env(customers=5, leads=2)
    login(page, live_server, "hr_admin", factories.PASSWORD)
    page.goto(f"{live_server.url}/org/users/{env.leaving.pk}/")
    page.click("[data-testid=handover-button]")
    page.wait_for_selector("[data-testid=holdings]")
    assert page.inner_text("[data-testid=holding-customers]") == "5"

    page.check("input[name=mode][value=split]")
    page.select_option("select[name=successors]", [str(env.b.pk), str(env.c.pk)])  # fires change → preview
    # expect() waits for the HTMX swap itself (an element of the previous preview may still be on the page)
    expect(page.locator("[data-testid=cell-customers-0]")).to_have_text("3")
    expect(page.locator("[data-testid=cell-customers-1]")).to_have_text("2")

    page.check("input[name=mode][value=one]")  # two successors for "one": the preview shows the error
    page.wait_for_selector("[data-testid=preview-errors]")
    page.select_option("select[name=successors]", [str(env.c.pk)])
    expect(page.locator("[data-testid=cell-customers-0]")).to_have_text("5")
    expect(page.locator("[data-testid=cell-customers-1]")).to_have_count(0)

    page.click("[data-testid=confirm-handover]")
    page.locator("#yd-confirm-ok").click()
    # the handover itself runs in one transaction over everything the user holds: generous under CI load
    page.wait_for_selector("[data-testid=handover-summary]", timeout=45_000)
    assert not User.objects.get(pk=env.leaving.pk).is_active
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", flat=True)) == {env.c.pk}
