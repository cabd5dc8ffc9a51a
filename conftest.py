"""Fixtures shared by every test (tests/ and yingdan/*/tests): the Playwright browser fixtures.

Browser tests are marked `@pytest.mark.browser`. They skip when /usr/bin/chromium is missing, unless the
environment sets REQUIRE_BROWSER=1 (CI), in which case a missing browser is a failure.

    def test_something(page, live_server, login, django_user_model):
        django_user_model.objects.create_user("amy", password="Secret-pass-123")
        login(page, live_server, "amy", "Secret-pass-123")
        page.goto(live_server.url + "/customers/")
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's async-unsafe guard would then refuse
# ORM calls made by the test (and by live_server fixtures) — allow them.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (the system /usr/bin/chromium; never `playwright install`)."""
    if not CHROMIUM.exists():
        if _browser_required():
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} does not exist")
        pytest.skip(f"{CHROMIUM} is missing (set REQUIRE_BROWSER=1 to make this a failure)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        if _browser_required():
            pytest.fail("REQUIRE_BROWSER=1 but the playwright package is not installed")
        pytest.skip("playwright is not installed")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def browser_context_args():
    """Override in a test module to change the viewport etc."""
    return {"locale": "zh-CN", "viewport": {"width": 1280, "height": 860}, "timezone_id": "Asia/Shanghai"}


@pytest.fixture
def page(browser, browser_context_args):
    """A fresh page in a fresh context (zh-CN locale: Accept-Language asks for Chinese)."""
    context = browser.new_context(**browser_context_args)
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def login():
    """login(page, live_server, username, password): log in through the login form and wait for the shell."""

    def _login(page, live_server, username: str, password: str, next_url: str = "/"):
        page.goto(f"{live_server.url}/login/?next={next_url}")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("#login-submit")
        page.wait_for_selector(".yd-topbar #yd-user-menu", state="attached")
        # The shell's scripts are deferred: wait until they have run, or a test may race them.
        page.wait_for_load_state("load")
        page.wait_for_function("() => window.Yingdan !== undefined && window.htmx !== undefined")
        return page

    return _login
