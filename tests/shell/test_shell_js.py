"""app.js in real Chromium: bulk selection (select all, counter, enabling buttons, submit to an action URL)
and the confirm dialog for [data-confirm]."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BULK_HTML = """
<form method="post" action="/should-not-be-used/" data-bulk id="bulk-test">
  <input type="hidden" name="csrfmiddlewaretoken" value="t">
  <span data-bulk-counter hidden><span data-bulk-count>0</span> selected</span>
  <button type="button" id="act" data-bulk-action="/bulk-url/" data-confirm="Transfer them?">Transfer</button>
  <button type="submit" id="plain" formaction="/other/" data-bulk-button>Other</button>
  <input type="checkbox" id="all" data-select-all>
  <input type="checkbox" name="pk" value="11"><input type="checkbox" name="pk" value="12">
  <input type="checkbox" name="pk" value="13">
</form>
<a id="danger" href="/deleted/" data-confirm="Delete it?">Delete</a>
"""


def test_bulk_selection_and_confirm(page, live_server, login, django_user_model, password):
    django_user_model.objects.create_user("zhaolei", password=password)
    login(page, live_server, "zhaolei", password)
    page.evaluate(
        "html => { document.querySelector('.yd-content').innerHTML = html; Yingdan.updateBulk(document); }",
        BULK_HTML,
    )
    assert page.locator("#act").is_disabled() and page.locator("#plain").is_disabled()
    assert not page.locator("[data-bulk-counter]").is_visible()

    page.check("#all")
    assert page.locator("[data-bulk-count]").inner_text() == "3"
    assert page.locator("#act").is_enabled() and page.locator("#plain").is_enabled()
    page.uncheck("input[name=pk][value='12']")
    assert page.locator("[data-bulk-count]").inner_text() == "2"
    assert page.evaluate("document.getElementById('all').indeterminate") is True

    posted = []

    def capture(route):
        posted.append((route.request.url, route.request.method, route.request.post_data))
        route.fulfill(status=200, body="<p id='done'>done</p>", content_type="text/html")

    page.route("**/bulk-url/", capture)
    page.route("**/deleted/", capture)

    # Cancel: nothing is sent
    page.click("#act")
    page.wait_for_selector("#yd-confirm-modal.show")
    assert page.locator("#yd-confirm-text").inner_text() == "Transfer them?"
    page.click("#yd-confirm-modal [data-bs-dismiss=modal]")
    page.wait_for_selector("#yd-confirm-modal", state="hidden")
    assert posted == []

    # OK: the bulk form goes to the button's action URL with the selected pks
    page.click("#act")
    page.wait_for_selector("#yd-confirm-modal.show")
    page.click("#yd-confirm-ok")
    page.wait_for_selector("#done")
    url, method, body = posted[0]
    assert url.endswith("/bulk-url/") and method == "POST"
    assert "pk=11" in body and "pk=13" in body and "pk=12" not in body


def test_confirm_on_a_link(page, live_server, login, django_user_model, password):
    django_user_model.objects.create_user("zhaolei", password=password)
    login(page, live_server, "zhaolei", password)
    page.evaluate("html => { document.querySelector('.yd-content').innerHTML = html; }", BULK_HTML)
    visited = []
    page.route(
        "**/deleted/",
        lambda route: (
            visited.append(route.request.url),
            route.fulfill(status=200, body="<p id='gone'>x</p>", content_type="text/html"),
        ),
    )
    page.click("#danger")
    page.wait_for_selector("#yd-confirm-modal.show")
    assert visited == []
    page.click("#yd-confirm-ok")
    page.wait_for_selector("#gone")
    assert visited and visited[0].endswith("/deleted/")
