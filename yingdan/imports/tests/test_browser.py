"""Upload → map → preview → import → summary in a real browser."""

import pytest

from yingdan.core.tests import factories
from yingdan.customers.models import Contact, Customer

from .helpers import xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_upload_map_preview_import(page, live_server, login, tmp_path):
    d = factories.make_department("华北")
    factories.make_user("imp_b", ["admin"], d, name="导入员")
    path = tmp_path / "客户.xlsx"
    path.write_bytes(xlsx_bytes([["2024年客户清单"], ["公司", "对接人", "手机", "奇怪的列"],
                                 ["浏览器科技有限公司", "钱七", "13800138009", "x"], ["", "无公司", "", ""]]))
    login(page, live_server, "imp_b", factories.PASSWORD)
    page.goto(f"{live_server.url}/customers/")
    page.locator("[data-testid=import-button]").click()
    page.locator("input[type=file]").set_input_files(str(path))
    page.locator("[data-testid=import-upload]").click()
    page.wait_for_url(lambda url: "/map/" in url)
    assert page.locator("[data-testid=col-0]").input_value() == "name"
    page.locator("[data-testid=col-1]").select_option("contact_name")
    page.locator("[data-testid=col-1]").wait_for()
    page.locator("[data-testid=start-preview]").click()
    page.locator("[data-testid=import-status][data-status=previewed]").wait_for()
    assert page.locator("[data-testid=count-created]").inner_text() == "1"
    assert page.locator("[data-testid=count-failed]").inner_text() == "1"
    assert not Customer.objects.exists()
    page.locator("[data-testid=import-run]").click()
    page.locator("[data-testid=import-status][data-status=done]").wait_for()
    assert page.locator("[data-testid=error-file]").count() == 1
    assert Contact.objects.filter(name="钱七", customer__name="浏览器科技有限公司").exists()
