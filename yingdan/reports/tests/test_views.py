"""Report pages: access (403 without the module), every page renders with chart data and a table, the HTMX
filter reload, invalid filters, and the CSV export (BOM, formula neutralisation, export permission)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from yingdan.core.tests.factories import PASSWORD, make_role, make_user

from ..definitions import REPORTS
from ..export import neutralise, table_csv

pytestmark = pytest.mark.django_db


def client_for(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_index_lists_every_report(world):
    r = client_for(world.rep1).get(reverse("reports:index"))
    assert r.status_code == 200
    for key in REPORTS:
        assert f'data-testid="report-card-{key}"'.encode() in r.content


def test_user_without_reports_module_is_refused(world):
    c = client_for(world.nobody)
    assert c.get(reverse("reports:index")).status_code == 403
    assert c.get(reverse("reports:report", args=["funnel"])).status_code == 403
    assert c.get(reverse("reports:export", args=["funnel"])).status_code == 403


def test_anonymous_is_sent_to_login():
    r = Client().get(reverse("reports:report", args=["funnel"]))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_unknown_report_is_404(world):
    assert client_for(world.director).get(reverse("reports:report", args=["nope"])).status_code == 404


@pytest.mark.parametrize("key", list(REPORTS))
def test_every_report_page_renders_chart_and_table(world, key):
    c = client_for(world.director)
    r = c.get(reverse("reports:report", args=[key]), {"pipeline": world.pipeline.pk, "period": "all"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="report-chart"' in html and 'data-testid="report-table"' in html
    assert "vendor/echarts.min.js" in html and "js/reports.js" in html
    spec = json.loads(r.context["chart"] and json.dumps(r.context["chart"], default=str))
    assert spec["type"] in {"funnel", "bar", "pie"}
    # the HTMX filter reload answers with the body only
    r = c.get(reverse("reports:report", args=[key]), {"pipeline": world.pipeline.pk}, HTTP_HX_REQUEST="true",
              HTTP_HX_TARGET="report-body")
    assert r.status_code == 200 and b"<html" not in r.content and b'data-testid="report-table"' in r.content


def test_funnel_page_shows_the_scoped_numbers(world):
    r = client_for(world.rep2).get(reverse("reports:report", args=["funnel"]), {"pipeline": world.pipeline.pk})
    assert [s["count"] for s in r.context["data"]["stages"]] == [0, 1, 0, 0]
    assert r.context["chart"]["data"][1]["value"] == 1


def test_required_pipeline_defaults_to_one(world):
    r = client_for(world.director).get(reverse("reports:report", args=["funnel"]))
    assert r.status_code == 200 and r.context["filters"].pipeline is not None


def test_invalid_filters_are_400_and_say_so(world):
    c = client_for(world.director)
    r = c.get(reverse("reports:report", args=["win-rate"]), {"date_from": "2025-05-01", "date_to": "2025-01-01"})
    assert r.status_code == 400 and b'data-testid="report-invalid"' in r.content
    r = c.get(reverse("reports:report", args=["win-rate"]), {"pipeline": "999999"})
    assert r.status_code == 400
    r = c.get(reverse("reports:report", args=["win-rate"]), {"date_from": "1900-01-01"})
    assert r.status_code == 400


def test_stalled_page_paginates(world):
    r = client_for(world.director).get(reverse("reports:report", args=["stalled"]), {"page": 1})
    assert r.status_code == 200 and r.context["data"]["count"] == 2


def test_csv_export_has_bom_and_scoped_rows(world, caplog):
    c = client_for(world.manager)  # managers may export
    with caplog.at_level("INFO", logger="yingdan.audit"):
        r = c.get(reverse("reports:export", args=["win-rate"]), {"period": "all", "group_by": "rep"})
    exported = [rec for rec in caplog.records if rec.getMessage() == "report exported"]
    assert exported and exported[0].actor == world.manager.pk and exported[0].report == "win-rate"
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert "张三" in text and "李四" not in text  # rep2 is outside the manager's departments
    assert "75.0" in text


def test_export_without_export_permission_is_403(world):
    # reps have reports:view but not export
    c = client_for(world.rep1)
    assert c.get(reverse("reports:report", args=["win-rate"])).status_code == 200
    assert c.get(reverse("reports:export", args=["win-rate"])).status_code == 403
    viewer = make_role("只看报表", {"reports": {"actions": ["view"], "scope": "all"},
                                 "opportunities": {"actions": ["view"], "scope": "all"}})
    u = make_user("viewer", roles=[viewer])
    assert client_for(u).get(reverse("reports:export", args=["funnel"])).status_code == 403


def test_csv_neutralises_formulas(world):
    from ..definitions import Column

    assert neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for bad in ["+1+2", "-3", "@SUM(A1)", "\tx", "\rx"]:
        assert neutralise(bad).startswith("'")
    assert neutralise(-5) == "-5" and neutralise("正常") == "正常" and neutralise(None) == ""
    body = table_csv([Column("label", "名称"), Column("won", "赢单", "int")], [{"label": "=1+1", "won": 3}])
    assert body.decode("utf-8-sig").splitlines()[1] == "'=1+1,3"


def test_export_of_a_rep_named_like_a_formula_is_neutralised(world):
    world.rep1.name = "=cmd|' /C calc'!A0"
    world.rep1.save()
    r = client_for(world.director).get(reverse("reports:export", args=["win-rate"]), {"period": "all"})
    assert "\n'=cmd" in r.content.decode("utf-8-sig").replace("\r\n", "\n")


def test_user_page_has_the_sop_tab_with_the_reps_figures(world):
    import datetime

    from yingdan.opportunities.models import StageChange

    from .factories import move

    StageChange.objects.all().delete()
    when = world.now - datetime.timedelta(days=1)
    for complete, over in [(True, 0), (False, 3), (True, 1), (True, 0)]:
        move(world.deals.A, world.s2, when, from_stage=world.s1, checklist_complete=complete, days_over_limit=over)
    c = client_for(world.manager)
    page = c.get(reverse("org:user_detail", args=[world.rep1.pk]))
    assert page.status_code == 200 and b"?tab=sop" in page.content
    r = c.get(reverse("org:user_detail", args=[world.rep1.pk]), {"tab": "sop"})
    assert r.status_code == 200
    periods = {p["key"]: p["data"]["total"] for p in r.context["sop_periods"]}
    assert periods["last_90_days"]["moves"] == 4 and periods["last_90_days"]["compliance_rate"] == 75.0
    assert periods["last_90_days"]["avg_days_over_limit"] == 1.0
    assert b'data-testid="user-sop-last_90_days"' in r.content


def test_sop_tab_hidden_without_reports_module(world):
    viewer = make_role("只看用户", {"users": {"actions": ["view"], "scope": "all"}})
    u = make_user("hr", roles=[viewer])
    page = client_for(u).get(reverse("org:user_detail", args=[world.rep1.pk]))
    assert page.status_code == 200 and b"?tab=sop" not in page.content
