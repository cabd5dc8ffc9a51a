"""/api/v1/reports/…: shapes, scope, filters, errors, and the OpenAPI documentation."""

from __future__ import annotations

import pytest
from django.test import Client

from yingdan.core.tests.api_base import api_client, assert_error

from ..definitions import REPORTS

pytestmark = pytest.mark.django_db


def url(key):
    return f"/api/v1/reports/{key}/"


def test_anonymous_401_and_without_module_403(world):
    assert api_client().get(url("funnel")).status_code == 401
    for key in REPORTS:
        assert_error(api_client(world.nobody).get(url(key)), 403)


def test_funnel_shape(world):
    r = api_client(world.director).get(url("funnel"), {"pipeline": world.pipeline.pk})
    assert r.status_code == 200
    body = r.json()
    assert body["pipeline"] == {"id": world.pipeline.pk, "name": world.pipeline.name}
    assert [s["count"] for s in body["stages"]] == [1, 1, 1, 0]
    assert body["stages"][1] == {"stage_id": world.s2.pk, "name": "需求确认", "color": "", "probability": 30, "count": 1,
                                 "amount": "700.00", "weighted_amount": "210.00"}
    assert body["total"] == {"count": 3, "amount": "1200.00", "weighted_amount": "460.00"}


def test_every_endpoint_answers_its_documented_keys(world):
    client = api_client(world.director)
    expected = {
        "funnel": {"pipeline", "stages", "total"},
        "conversion": {"pipeline", "stages", "won", "deals", "win_rate_from_first"},
        "stage-duration": {"pipeline", "stages", "cycle"},
        "win-rate": {"group_by", "rows", "total"},
        "forecast": {"group_by", "rows", "total"},
        "stalled": {"count", "count_capped", "page", "page_size", "has_next", "by_stage", "results"},
        "loss-reasons": {"rows", "total"},
        "sop-compliance": {"group_by", "rows", "total"},
    }
    for key, keys in expected.items():
        r = client.get(url(key), {"pipeline": world.pipeline.pk, "period": "all"})
        assert r.status_code == 200, (key, r.content)
        assert set(r.json()) == keys, key


def test_win_rate_group_by_and_scope(world):
    body = api_client(world.director).get(url("win-rate"), {"group_by": "team", "period": "all"}).json()
    assert body["group_by"] == "team"
    assert {r["label"]: r["win_rate"] for r in body["rows"]} == {"上海组": 75.0, "华南区": 0.0}
    mine = api_client(world.rep1).get(url("win-rate"), {"period": "all"}).json()
    assert [(r["key"], r["won"], r["lost"], r["win_rate"]) for r in mine["rows"]] == [(world.rep1.pk, 3, 1, 75.0)]
    assert mine["total"]["win_rate"] == 75.0


def test_forecast_by_category_and_team_filter(world):
    body = api_client(world.director).get(url("forecast"), {"group_by": "category", "team": world.d2.pk}).json()
    rows = {r["key"]: r for r in body["rows"]}
    assert rows["pipeline"]["count"] == 1 and rows["pipeline"]["weighted_amount"] == "210.00"  # G only


def test_stalled_paging(world):
    body = api_client(world.director).get(url("stalled"), {"page": 1}).json()
    assert body["count"] == 2 and [d["id"] for d in body["results"]] == [world.deals.E.pk, world.deals.G.pk]
    assert body["results"][0]["time_limit_days"] == 7


def test_bad_filters_are_400_in_the_one_error_format(world):
    client = api_client(world.director)
    assert_error(client.get(url("win-rate"), {"group_by": "planet"}), 400, "group_by")
    assert_error(client.get(url("win-rate"), {"period": "someday"}), 400, "period")
    assert_error(client.get(url("win-rate"), {"date_from": "2025-03-01", "date_to": "2025-01-01"}), 400, "date_to")
    assert_error(client.get(url("funnel"), {"pipeline": "abc"}), 400, "pipeline")
    assert_error(client.get(url("sop-compliance"), {"rep": 99999}), 400, "rep")


def test_rep_filter_outside_scope_is_refused(world):
    # a rep may only pick themselves
    assert_error(api_client(world.rep1).get(url("win-rate"), {"rep": world.rep2.pk}), 400, "rep")


def test_openapi_documents_the_report_endpoints(world):
    c = Client()
    c.force_login(world.director)
    r = c.get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    schema = r.json()
    for key in REPORTS:
        assert f"/api/v1/reports/{key}/" in schema["paths"], key
    op = schema["paths"]["/api/v1/reports/win-rate/"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"pipeline", "team", "rep", "period", "date_from", "date_to", "group_by"} <= names
    assert "WinRate" in str(op["responses"]["200"])
