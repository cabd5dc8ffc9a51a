"""The funnel page in real Chromium: ECharts draws the chart (a canvas) with the toolbox, and changing a filter
reloads the report body through HTMX and redraws."""

import pytest

from yingdan.core.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funnel_page_draws_an_echarts_chart(page, live_server, login, world):
    login(page, live_server, "boss", PASSWORD)
    page.goto(f"{live_server.url}/reports/funnel/?pipeline={world.pipeline.pk}")
    page.wait_for_selector("[data-testid=report-chart][data-rendered='1'] canvas")
    assert page.evaluate("() => !!echarts.getInstanceByDom(document.querySelector('[data-testid=report-chart]'))")
    # the toolbox offers "save as image"
    option = page.evaluate("() => echarts.getInstanceByDom(document.querySelector('[data-testid=report-chart]')).getOption()")
    assert option["toolbox"][0]["feature"]["saveAsImage"]
    assert [d["value"] for d in option["series"][0]["data"]] == [1, 1, 1, 0]

    # filter by rep: HTMX swaps the body, the chart is drawn again with the rep's numbers
    with page.expect_response(lambda r: "/reports/funnel/" in r.url and r.request.headers.get("hx-request") == "true"):
        page.select_option("[data-testid=filter-rep]", str(world.rep2.pk))
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=report-chart]');"
        " const c = el && echarts.getInstanceByDom(el); return c && c.getOption().series[0].data[1].value === 1"
        " && c.getOption().series[0].data[0].value === 0; }"
    )
    assert f"rep={world.rep2.pk}" in page.url
