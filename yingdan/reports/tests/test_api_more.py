"""/api/v1/reports/<report>/export/: the page's CSV download over the API (coverage audit) — same bytes as
the page for the same filters, scoped, audited, export permission required."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from yingdan.core.tests.api_base import api_client, assert_error

from ..definitions import REPORTS

pytestmark = pytest.mark.django_db


def test_csv_export_is_the_pages_csv(world, caplog):
    params = {"period": "all", "group_by": "rep"}
    with caplog.at_level("INFO", logger="yingdan.audit"):
        r = api_client(world.manager).get("/api/v1/reports/win-rate/export/", params)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert 'filename="report-win-rate-' in r["Content-Disposition"]
    exported = [rec for rec in caplog.records if rec.getMessage() == "report exported"]
    assert exported and exported[0].actor == world.manager.pk and exported[0].report == "win-rate"
    web = Client()
    web.force_login(world.manager)
    page = web.get(reverse("reports:export", args=["win-rate"]), params)
    assert r.content == page.content
    text = r.content.decode("utf-8-sig")
    assert "张三" in text and "李四" not in text


def test_every_report_exports_and_csv_accept_header_works(world):
    client = api_client(world.director)
    for key in REPORTS:
        r = client.get(f"/api/v1/reports/{key}/export/", HTTP_ACCEPT="text/csv")
        assert r.status_code == 200, (key, r.content[:200])
        assert r.content.startswith(b"\xef\xbb\xbf")


def test_export_refusals(world):
    assert_error(api_client(world.rep1).get("/api/v1/reports/win-rate/export/"), 403)  # reps may view, not export
    assert_error(api_client(world.nobody).get("/api/v1/reports/funnel/export/"), 403)
    assert_error(api_client(world.director).get("/api/v1/reports/win-rate/export/", {"period": "nope"}), 400, field="period")
