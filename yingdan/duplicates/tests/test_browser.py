"""The live duplicate check in a real browser: typing a name shows the hit, "save anyway" saves."""

import pytest

from yingdan.core.tests import factories
from yingdan.customers.models import Customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_live_check_while_typing_then_save_anyway(page, live_server, login):
    d1, d2 = factories.make_department("华东一组"), factories.make_department("华南一组")
    rep = factories.make_user("dup_rep", ["rep"], d1, name="孙丽")
    other = factories.make_user("dup_other", ["rep"], d2, name="周强")
    factories.make_customer(other, name="北京星辰科技有限公司")
    login(page, live_server, "dup_rep", factories.PASSWORD)
    page.goto(f"{live_server.url}/customers/add/")
    page.locator("input[name=name]").press_sequentially("星辰科技（北京）", delay=20)
    hit = page.locator("#duplicate-live-check [data-testid=duplicate-hit]")
    hit.wait_for()
    text = hit.inner_text()
    assert "周强" in text and "华南一组" in text and "北京星辰科技有限公司" not in text
    assert page.locator("#duplicate-live-check [data-testid=request-transfer]").count() == 1
    page.locator("#duplicate-live-check [data-testid=confirm-duplicates]").check()
    page.locator("#object-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/add/" not in url)
    assert Customer.objects.filter(name="星辰科技（北京）", owner=rep).exists()
