"""In Chromium: an admin adds a DingTalk robot with a wrong secret, presses "Test send" and sees the vendor's
error code; the secret is never on the page."""

import pytest

from yingdan.core.tests import factories

from ..models import Robot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_robot_test_send_shows_vendor_error(page, live_server, login, fake):
    factories.make_user("boss", ["admin"], factories.make_department("总部"))
    url = fake.dingtalk_url(token="tok-browser", secret="SECright-secret-1234")
    login(page, live_server, "boss", factories.PASSWORD)
    page.goto(f"{live_server.url}/integrations/robots/add/")
    page.select_option("select[name=vendor]", "dingtalk")
    page.fill("input[name=name]", "华东销售群")
    page.fill("input[name=webhook_url]", url)
    page.fill("input[name=secret]", "SECwrong-secret-9999")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/integrations/robots/*/")
    assert "SECwrong-secret-9999" not in page.content() and "tok-browser" not in page.content()
    page.click("[data-testid=robot-test]")
    error = page.locator("[data-testid=robot-error]")
    error.wait_for()
    assert error.get_attribute("data-code") == "310000"
    assert Robot.objects.get().last_error_code == "310000"
