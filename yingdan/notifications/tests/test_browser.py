"""The bell in real Chromium: the unread count appears after a notification is created — without a reload,
through the 30-second poll (the page clock is fast-forwarded) — and the dropdown lists it and marks all read."""

import pytest

from yingdan.core.tests import factories
from yingdan.notifications import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_bell_updates_without_reload(page, live_server, login):
    dept = factories.make_department("销售部")
    amy = factories.make_user("amy", ["rep"], dept, name="艾米")
    page.clock.install()
    login(page, live_server, "amy", factories.PASSWORD)
    page.wait_for_selector("#notification-count", state="attached")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=notification-badge]").count() == 0

    page.evaluate("window.__marker = 'same page'")
    services.notify([amy], "system", "新客户已分配给你", body="上海某科技有限公司", url="/customers/")
    with page.expect_response(lambda r: "/notifications/badge/" in r.url):
        page.clock.run_for(31_000)
    badge = page.locator("[data-testid=notification-badge]")
    badge.wait_for()
    assert badge.inner_text().strip() == "1"
    assert page.evaluate("window.__marker") == "same page"  # no reload happened

    page.click("#notification-bell")
    item = page.locator("#notification-dropdown [data-notification]")
    item.first.wait_for()
    assert "新客户已分配给你" in item.first.inner_text()
    page.click("[data-testid=mark-all-read]")
    badge.wait_for(state="detached")
    assert amy.notifications.filter(read_at__isnull=True).count() == 0
