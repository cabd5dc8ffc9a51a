"""Each report against numbers worked out by hand (the world is described in conftest.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yingdan.opportunities.models import StageChange

from .. import queries
from ..filters import ReportFilters
from .factories import move

pytestmark = pytest.mark.django_db


def F(w, **kw):
    kw.setdefault("pipeline", w.pipeline)
    return ReportFilters(**kw)


def by_name(rows, key="name"):
    return {r[key]: r for r in rows}


def test_funnel_counts_open_deals_per_stage(world):
    data = queries.funnel(world.director, F(world))
    stages = [(s["name"], s["count"], s["amount"], s["weighted_amount"]) for s in data["stages"]]
    assert stages == [
        ("初步接触", 1, Decimal("100.00"), Decimal("10.00")),    # E
        ("需求确认", 1, Decimal("700.00"), Decimal("210.00")),   # G
        ("方案报价", 1, Decimal("400.00"), Decimal("240.00")),   # F
        ("商务谈判", 0, Decimal("0.00"), Decimal("0.00")),
    ]
    assert data["total"] == {"count": 3, "amount": Decimal("1200.00"), "weighted_amount": Decimal("460.00")}


def test_funnel_scope_rep_sees_only_own_and_manager_their_tree(world):
    rep2 = queries.funnel(world.rep2, F(world))
    assert [s["count"] for s in rep2["stages"]] == [0, 1, 0, 0]
    mgr = queries.funnel(world.manager, F(world))
    assert [s["count"] for s in mgr["stages"]] == [1, 0, 1, 0]
    assert queries.funnel(world.nobody, F(world))["total"]["count"] == 0


def test_funnel_filters_team_and_rep(world):
    assert queries.funnel(world.director, F(world, team=world.d1, team_ids=world.d1.descendant_ids()))["total"]["count"] == 2
    assert queries.funnel(world.director, F(world, rep=world.rep2))["total"]["count"] == 1
    # a rep filter outside the scope shows nothing, not the other rep's numbers
    assert queries.funnel(world.rep1, F(world, rep=world.rep2))["total"]["count"] == 0


def test_conversion_uses_the_furthest_stage_reached(world):
    data = queries.conversion(world.director, F(world))
    rows = [(s["name"], s["reached"], s["next_reached"], s["rate"]) for s in data["stages"]]
    assert rows == [
        ("初步接触", 8, 6, 75.0),
        ("需求确认", 6, 4, 66.7),
        ("方案报价", 4, 3, 75.0),
        ("商务谈判", 3, 3, 100.0),   # won deals count as having reached every stage
    ]
    assert data["won"] == 3 and data["deals"] == 8
    assert data["win_rate_from_first"] == 37.5


def test_conversion_in_rep_scope(world):
    data = queries.conversion(world.rep2, F(world))
    assert [s["reached"] for s in data["stages"]] == [2, 1, 0, 0]
    assert data["won"] == 0


def test_stage_duration_and_sales_cycle(world):
    data = queries.stage_duration(world.director, F(world))
    rows = {s["name"]: (s["moves"], s["avg_days"]) for s in data["stages"]}
    # out of S1: A1 B2 C3 D4 F5 G6 H7 -> 28/7; out of S2: A1 B2 D4 F5 -> 12/4; out of S3: A1
    assert rows == {"初步接触": (7, 4.0), "需求确认": (4, 3.0), "方案报价": (1, 1.0), "商务谈判": (0, None)}
    # created -> won: A 3 d, B 4 d, C 3 d
    assert data["cycle"] == {"won_deals": 3, "avg_days": 3.3}


def test_win_rate_by_rep_team_and_source(world):
    data = queries.win_rate(world.director, F(world, group_by="rep"))
    rows = {r["label"]: (r["won"], r["lost"], r["win_rate"]) for r in data["rows"]}
    assert rows == {"张三": (3, 1, 75.0), "李四": (0, 1, 0.0)}
    assert data["total"]["win_rate"] == 60.0 and data["total"]["won_amount"] == Decimal("6000.00")
    team = {r["label"]: r["win_rate"] for r in queries.win_rate(world.director, F(world, group_by="team"))["rows"]}
    assert team == {"上海组": 75.0, "华南区": 0.0}
    source = {r["key"]: (r["won"], r["lost"]) for r in queries.win_rate(world.director, F(world, group_by="source"))["rows"]}
    assert source == {world.web.pk: (2, 0), world.expo.pk: (1, 1), None: (0, 1)}
    # a rep sees their own line only
    assert [r["label"] for r in queries.win_rate(world.rep1, F(world))["rows"]] == ["张三"]


def test_win_rate_period(world):
    today = world.now.date()
    in_period = F(world, period="custom", date_from=today - datetime.timedelta(days=60), date_to=today)
    assert queries.win_rate(world.director, in_period)["total"]["won"] == 3
    before = F(world, period="custom", date_from=datetime.date(2001, 1, 1), date_to=datetime.date(2001, 12, 31))
    assert queries.win_rate(world.director, before)["total"] == {"won": 0, "lost": 0, "won_amount": Decimal("0.00"), "win_rate": None}


def test_forecast_by_month_and_category(world):
    data = queries.forecast(world.director, F(world, group_by="month"))
    assert [(r["key"], r["count"], r["amount"], r["weighted_amount"]) for r in data["rows"]] == [
        ("2030-01", 2, Decimal("800.00"), Decimal("220.00")),   # E 100×10 % + G 700×30 %
        ("2030-02", 1, Decimal("400.00"), Decimal("240.00")),   # F 400×60 %
    ]
    cat = {r["key"]: (r["count"], r["amount"], r["weighted_amount"])
           for r in queries.forecast(world.director, F(world, group_by="category"))["rows"]}
    assert cat["pipeline"] == (2, Decimal("800.00"), Decimal("220.00"))
    assert cat["best_case"] == (1, Decimal("400.00"), Decimal("240.00"))
    assert cat["commit"] == (0, Decimal("0.00"), Decimal("0.00"))
    assert cat["closed"] == (3, Decimal("6000.00"), Decimal("6000.00"))  # won A, B, C


def test_stalled_deals_longest_in_stage_first(world):
    data = queries.stalled(world.director, F(world))
    assert [r["id"] for r in data["results"]] == [world.deals.E.pk, world.deals.G.pk]
    assert data["count"] == 2
    first = data["results"][0]
    assert first["time_limit_days"] == 7 and first["days_in_stage"] == pytest.approx(40, abs=0.1)
    assert first["days_over"] == pytest.approx(33, abs=0.1)
    assert [r["id"] for r in queries.stalled(world.rep2, F(world))["results"]] == [world.deals.G.pk]


def test_stalled_pagination(world):
    data = queries.stalled(world.director, F(world, page=2), page_size=1)
    assert data["page"] == 2 and [r["id"] for r in data["results"]] == [world.deals.G.pk] and not data["has_next"]


def test_stalled_count_is_the_sum_of_the_stages(world):
    """The list's count comes from the per-stage figures (exact, never capped): no separate COUNT pass."""
    for user in (world.director, world.manager, world.rep2, world.nobody):
        with CaptureQueriesContext(connection) as ctx:
            data = queries.stalled(user, F(world), page_size=1)
        assert data["count"] == queries.stalled_queryset(user, F(world)).count() == sum(s["count"] for s in data["by_stage"])
        assert not data["count_capped"]
        assert not any(q["sql"].startswith("SELECT COUNT(*)") for q in ctx.captured_queries)


def test_loss_reasons_two_levels(world):
    data = queries.loss_reasons(world.director, F(world))
    rows = by_name(data["rows"])
    assert rows["价格"]["count"] == 1 and rows["价格"]["amount"] == Decimal("500.00")
    assert [(c["name"], c["count"]) for c in rows["价格"]["children"]] == [("太贵", 1)]
    assert rows["其他"]["count"] == 1 and rows["其他"]["children"] == []
    assert rows["价格"]["share"] == 50.0
    assert data["total"] == {"count": 2, "amount": Decimal("550.00")}


def test_sop_compliance_per_rep_team_month(world):
    StageChange.objects.all().delete()
    when = world.now - datetime.timedelta(days=3)
    a, g = world.deals.A, world.deals.G
    for complete, over in [(True, 0), (False, 2), (True, 0), (True, 4)]:
        move(a, world.s2, when, from_stage=world.s1, checklist_complete=complete, days_over_limit=over)
    for complete, over in [(True, 0), (False, 0)]:
        move(g, world.s2, when, from_stage=world.s1, checklist_complete=complete, days_over_limit=over)
    move(a, world.s1, when, from_stage=None)  # a creation, not a move: not counted
    data = queries.sop_compliance(world.director, F(world, pipeline=None, group_by="rep"))
    rows = {r["label"]: (r["moves"], r["complete"], r["compliance_rate"], r["avg_days_over_limit"], r["over_limit_moves"])
            for r in data["rows"]}
    assert rows == {"张三": (4, 3, 75.0, 1.5, 2), "李四": (2, 1, 50.0, 0.0, 0)}
    assert data["total"]["compliance_rate"] == 66.7 and data["total"]["avg_days_over_limit"] == 1.0
    team = {r["label"]: r["compliance_rate"] for r in queries.sop_compliance(world.director, F(world, group_by="team"))["rows"]}
    assert team == {"上海组": 75.0, "华南区": 50.0}
    months = queries.sop_compliance(world.director, F(world, group_by="month"))["rows"]
    assert sum(r["moves"] for r in months) == 6
    # the manager (d1 and below) sees rep1's moves only; rep2 their own
    assert [r["label"] for r in queries.sop_compliance(world.manager, F(world))["rows"]] == ["张三"]
    assert queries.sop_compliance(world.rep2, F(world))["total"]["moves"] == 2


def test_reports_are_aggregations_not_row_loads(world):
    """The number of queries does not grow with the data: a handful per report."""
    for func in (queries.funnel, queries.conversion, queries.stage_duration, queries.win_rate, queries.forecast,
                 queries.loss_reasons, queries.sop_compliance):
        with CaptureQueriesContext(connection) as ctx:
            func(world.director, F(world))
        assert len(ctx.captured_queries) <= 8, (func.__name__, [q["sql"] for q in ctx.captured_queries])


def test_own_records_outside_the_departments_part_runs_only_when_there_are_some(world):
    """The manager's scope is d1 and below plus their own records: the part for own records outside d1 is left
    out while the (owner, department) index shows there are none, and counted again as soon as there are."""
    from yingdan.opportunities.models import Opportunity

    def funnel():
        return [s["count"] for s in queries.funnel(world.manager, F(world))["stages"]]

    with CaptureQueriesContext(connection) as ctx:
        assert funnel() == [1, 0, 1, 0]
    assert len([q for q in ctx.captured_queries if "GROUP BY" in q["sql"]]) == 1  # only the departments' part
    conversion = queries.conversion(world.manager, F(world))
    # G (in S2, department d2) becomes the manager's own deal, its history too: outside d1, inside the scope.
    G = world.deals.G
    Opportunity.objects.filter(pk=G.pk).update(owner=world.manager)
    StageChange.objects.filter(opportunity=G).update(owner=world.manager)
    with CaptureQueriesContext(connection) as ctx:
        assert funnel() == [1, 1, 1, 0]
    assert len([q for q in ctx.captured_queries if "GROUP BY" in q["sql"]]) == 2
    after = queries.conversion(world.manager, F(world))
    assert after["deals"] == conversion["deals"] + 1
    assert [s["reached"] for s in after["stages"]][:2] == [s["reached"] + 1 for s in conversion["stages"]][:2]
    # the same figures as the director's filtered to the manager's deals
    assert queries.funnel(world.director, F(world, rep=world.manager))["total"]["count"] == 1


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner only")
def test_sqlite_history_keeps_the_pipeline_off_its_index(world):
    """In a department scope SQLite must walk the scope's covering index, not (pipeline, changed_at) plus a table
    row per move: the pipeline condition is written `+pipeline_id`. Same figures (the other tests). The history is
    read for the partial months at the edges of a period (a period from the 15th has one)."""
    today = world.now.date()
    start = (today - datetime.timedelta(days=70)).replace(day=15)
    f = F(world, period="custom", date_from=start, date_to=today)
    with CaptureQueriesContext(connection) as ctx:
        queries.stage_duration(world.manager, f)
    history = [q["sql"] for q in ctx.captured_queries if "GROUP BY" in q["sql"] and "opportunities_stagechange" in q["sql"]]
    assert history and all('+"opportunities_stagechange"."pipeline_id" =' in sql for sql in history)
    with CaptureQueriesContext(connection) as ctx:
        queries.stage_duration(world.director, f)  # the whole company: (pipeline, changed_at) is the right index
    assert any("opportunities_stagechange" in q["sql"] for q in ctx.captured_queries)
    assert not any('+"opportunities_stagechange"."pipeline_id"' in q["sql"] for q in ctx.captured_queries)
