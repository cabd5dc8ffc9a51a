"""The organisation pages in real Chromium: the department tree collapses, the role matrix's "all" box and
field levels post the right JSON, and the pages fit a 375 px phone without sideways scrolling."""

import re

import pytest

from yingdan.core.tests import factories
from yingdan.org.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



@pytest.fixture
def chromium(browser):
    """The session's shared Chromium (conftest.py at the repository root): one Playwright per process."""
    return browser


def open_as_admin(chromium, live_server, width):
    context = chromium.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#yd-user-menu", state="attached")
    return context, page


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_tree_and_role_matrix(chromium, live_server):
    east = factories.make_department("华东大区")
    team = factories.make_department("上海组", parent=east)
    factories.make_department("华南大区")
    factories.make_user("boss", ["admin"], east, name="老板")
    factories.make_user("rep1", ["rep"], team, name="张伟")

    for width in (1280, 375):
        context, page = open_as_admin(chromium, live_server, width)
        try:
            page.goto(f"{live_server.url}/org/departments/")
            team_row = page.locator(f"tr[data-dept='{team.pk}']")
            assert team_row.is_visible()
            page.locator(f"tr[data-dept='{east.pk}'] [data-tree-toggle]").click()
            assert team_row.is_hidden()
            page.locator("[data-tree-all=expand]").click()
            assert team_row.is_visible()
            assert no_sideways_scroll(page), f"tree scrolls sideways at {width}px"

            page.goto(f"{live_server.url}/org/roles/add/")
            assert no_sideways_scroll(page), f"role form scrolls sideways at {width}px"
            if width != 1280:
                continue
            page.fill("input[name=name]", "浏览器角色")
            page.locator("tr[data-module=customers] [data-row-all]").check()
            page.select_option("select[name=scope__customers]", "department_tree")
            page.click("[data-bs-target='#fields-customers']")
            page.select_option("select[name=field__customers__phone]", "hidden")
            page.click("#object-form button[type=submit]")
            page.wait_for_url(re.compile(r"/org/roles/\d+/$"))
            role = Role.objects.get(name="浏览器角色")
            assert role.permissions == {"customers": {"actions": ["view", "create", "edit", "delete", "import", "export", "transfer"],
                                                      "scope": "department_tree"}}
            assert role.field_permissions == {"customers": {"phone": "hidden"}}
        finally:
            context.close()
