"""Real Chromium: log in in Chinese on a 375 px phone screen and open the hamburger menu."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_context_args():
    return {
        "locale": "zh-CN",
        "viewport": {"width": 375, "height": 740},
        "is_mobile": True,
        "has_touch": True,
    }


def test_login_in_chinese_on_a_phone_shows_the_hamburger_menu(
    page, live_server, login, django_user_model, password
):
    django_user_model.objects.create_user("wangfang", password=password, name="王芳", mobile="13912345678")
    page.goto(f"{live_server.url}/login/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator(".yd-auth-card").is_visible()

    login(page, live_server, "13912345678", password)  # by mobile number

    assert page.url == f"{live_server.url}/"
    hamburger = page.locator("#yd-nav-toggle")
    assert hamburger.is_visible()
    sidebar = page.locator("#yd-sidebar")
    assert not sidebar.is_visible()  # collapsed on a phone
    hamburger.click()
    page.wait_for_selector("#yd-sidebar.show")
    home_link = sidebar.locator(".yd-nav-link.active")
    assert home_link.is_visible()
    # nothing overflows the phone screen horizontally
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # styles and scripts came from our own server (whitenoise / staticfiles), not a CDN
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("typeof window.bootstrap") == "object"
