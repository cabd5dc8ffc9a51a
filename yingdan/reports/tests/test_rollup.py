"""The reports' roll-ups (yingdan.opportunities.rollup) against the history they summarise: the monthly sums and
each deal's furthest stage must give exactly what the history gives, for any period, scope and grouping, after
moves through the services, deletions and rebuilds."""

from __future__ import annotations

import datetime
import random

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from yingdan.opportunities import rollup, services
from yingdan.opportunities.models import Opportunity, StageChange, StageMonth

from .. import queries
from ..filters import ReportFilters, period_range
from .factories import make_opportunity, move

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone


def aware(y, m, d, hh=0, mm=0):
    return datetime.datetime(y, m, d, hh, mm, tzinfo=TZ())


# -- cutting a period at month boundaries ----------------------------------------------------------------
@pytest.mark.parametrize(("start", "end", "whole", "partial"), [
    ((2026, 1, 1), (2027, 1, 1), ("2026-01", "2027-01"), []),
    ((2026, 11, 5), (2026, 11, 20), None, [((2026, 11, 5), (2026, 11, 20), "2026-11")]),
    ((2026, 11, 5), (2026, 12, 1), None, [((2026, 11, 5), (2026, 12, 1), "2026-11")]),
    ((2026, 10, 15), (2026, 12, 10), ("2026-11", "2026-12"),
     [((2026, 10, 15), (2026, 11, 1), "2026-10"), ((2026, 12, 1), (2026, 12, 10), "2026-12")]),
    ((2026, 10, 15), (2026, 11, 10), None,
     [((2026, 10, 15), (2026, 11, 1), "2026-10"), ((2026, 11, 1), (2026, 11, 10), "2026-11")]),
    ((2026, 11, 1), (2026, 11, 20), None, [((2026, 11, 1), (2026, 11, 20), "2026-11")]),
    (None, (2026, 11, 10), (None, "2026-11"), [((2026, 11, 1), (2026, 11, 10), "2026-11")]),
    ((2026, 11, 10), None, ("2026-12", None), [((2026, 11, 10), (2026, 12, 1), "2026-11")]),
    (None, None, (None, None), []),
    ((2025, 12, 31), (2026, 1, 1), None, [((2025, 12, 31), (2026, 1, 1), "2025-12")]),
])
def test_split_period(start, end, whole, partial):
    def month(text):
        return None if text is None else datetime.date(int(text[:4]), int(text[5:]), 1)

    got_whole, got_partial = rollup.split_period(aware(*start) if start else None, aware(*end) if end else None)
    assert got_whole == (None if whole is None else (month(whole[0]), month(whole[1])))
    assert got_partial == [(aware(*a), aware(*b), month(m)) for a, b, m in partial]


# -- monthly sums == history -----------------------------------------------------------------------------
def _spread_history(world, n=160, seed=7):
    """Moves over the last ~14 months at random times (both sides of month boundaries), random figures."""
    rng = random.Random(seed)
    opps = [world.deals.A, world.deals.D, world.deals.G, world.deals.H]
    stages = [world.s1, world.s2, world.s3, world.s4]
    for i in range(n):
        opp = opps[i % len(opps)]
        when = world.now - datetime.timedelta(minutes=rng.randrange(0, 60 * 24 * 420))
        move(opp, rng.choice(stages), when, from_stage=rng.choice(stages),
             seconds_in_previous=rng.choice([None, rng.randrange(60, 86400 * 30)]),
             checklist_complete=rng.random() < 0.7, days_over_limit=rng.choice([0.0, 0.0, round(rng.random() * 9, 2)]))


def _reference(f: ReportFilters, rows_filter: Q, keys) -> dict:
    """The same sums straight from the history, month keys in Python."""
    start, end = f.datetime_range()
    qs = StageChange.objects.filter(rows_filter, from_stage__isnull=False)
    if f.pipeline:
        qs = qs.filter(pipeline=f.pipeline)
    if start:
        qs = qs.filter(changed_at__gte=start)
    if end:
        qs = qs.filter(changed_at__lt=end)
    out: dict = {}
    for c in qs:
        values = {"month": rollup.month_of(c.changed_at), "owner_id": c.owner_id, "department_id": c.department_id,
                  "from_stage_id": c.from_stage_id}
        acc = out.setdefault(tuple(values[k] for k in keys), {"moves": 0, "timed": 0, "seconds": 0, "complete": 0,
                                                             "over_limit": 0, "days_over": 0.0})
        acc["moves"] += 1
        acc["timed"] += c.seconds_in_previous is not None
        acc["seconds"] += c.seconds_in_previous or 0
        acc["complete"] += bool(c.checklist_complete)
        acc["over_limit"] += c.days_over_limit > 0
        acc["days_over"] += c.days_over_limit
    return out


def _normalised(sums: dict) -> dict:
    return {key: {name: (round(float(v or 0), 6) if name == "days_over" else int(v or 0)) for name, v in row.items()}
            for key, row in sums.items() if row["moves"]}


def _periods(world):
    today = timezone.localdate()
    out = [(None, None), period_range("this_year"), period_range("this_month"), period_range("last_90_days"),
           period_range("this_quarter")]
    rng = random.Random(3)
    for _ in range(8):
        a = today - datetime.timedelta(days=rng.randrange(0, 430))
        out.append((a, a + datetime.timedelta(days=rng.randrange(0, 200))))
    return out


@pytest.mark.parametrize("keys", [(), ("owner_id",), ("department_id",), ("month",), ("from_stage_id", "month")])
def test_monthly_sums_give_what_the_history_gives(world, keys):
    _spread_history(world)
    for date_from, date_to in _periods(world):
        f = ReportFilters(pipeline=world.pipeline, period="custom", date_from=date_from, date_to=date_to)
        got = _normalised(queries.stage_move_sums(world.director, f, keys))
        assert got == _normalised(_reference(f, Q(), keys)), (date_from, date_to)
        # a manager's departments (d1 and below)
        got = _normalised(queries.stage_move_sums(world.manager, f, keys))
        assert got == _normalised(_reference(f, Q(department_id__in=[world.d1.pk, world.d1a.pk]), keys)), (date_from, date_to)


def test_collaborations_are_read_from_the_history(world):
    """A rep sees their own moves and those of deals they collaborate on — the latter has no column in the monthly
    sums, so it is read from the history; together they give the reference."""
    _spread_history(world)
    world.deals.A.collaborators.add(world.rep2)  # A is rep1's deal
    today = timezone.localdate()
    for date_from, date_to in [(None, None), (today - datetime.timedelta(days=75), today)]:
        f = ReportFilters(pipeline=world.pipeline, period="custom", date_from=date_from, date_to=date_to)
        for keys in [(), ("month",), ("owner_id",)]:
            got = _normalised(queries.stage_move_sums(world.rep2, f, keys))
            want = _normalised(_reference(f, Q(owner=world.rep2) | Q(opportunity=world.deals.A), keys))
            assert got == want and got, keys
    # and the SOP report figures follow
    sop = queries.sop_compliance(world.rep2, ReportFilters(pipeline=world.pipeline))
    assert sop["total"]["moves"] == StageChange.objects.filter(
        Q(owner=world.rep2) | Q(opportunity=world.deals.A), from_stage__isnull=False).count()


def _month_table() -> dict:
    rows = StageMonth.objects.values("month", "pipeline_id", "department_id", "owner_id", "from_stage_id").annotate(
        m=Sum("moves"), t=Sum("timed_moves"), s=Sum("seconds"), c=Sum("complete"), o=Sum("over_limit"), d=Sum("days_over"))
    return {(r["month"], r["pipeline_id"], r["department_id"], r["owner_id"], r["from_stage_id"]):
            (r["m"], r["t"], r["s"], r["c"], r["o"], round(r["d"], 6)) for r in rows if r["m"]}


def test_moves_and_deletions_through_the_services_keep_the_sums_and_a_rebuild_agrees(world):
    _spread_history(world, n=40)
    opp = make_opportunity(world.rep1, world.pipeline, world.s1, amount="900")
    services.move_opportunity(world.director, opp, world.s2)
    services.move_opportunity(world.director, Opportunity.objects.get(pk=opp.pk), world.s1)
    incremental = _month_table()
    assert StageMonth.objects.aggregate(n=Sum("moves"))["n"] == StageChange.objects.filter(from_stage__isnull=False).count()
    rollup.rebuild()
    assert _month_table() == incremental
    # deleting a deal takes its moves out of the sums (the cascade deletes its history)
    before = StageChange.objects.filter(from_stage__isnull=False).count()
    gone = StageChange.objects.filter(opportunity=world.deals.D, from_stage__isnull=False).count()
    assert gone
    services.delete_opportunity(world.director, world.deals.D)
    assert StageMonth.objects.aggregate(n=Sum("moves"))["n"] == before - gone
    after_delete = _month_table()
    rollup.rebuild_months()
    assert _month_table() == after_delete


def test_furthest_stage_follows_the_moves(world):
    opp = make_opportunity(world.rep1, world.pipeline, world.s1, amount="900")
    move(opp, world.s1, world.now, from_stage=None)  # its creation
    assert Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.s1.pk
    services.move_opportunity(world.director, opp, world.s3)
    assert Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.s3.pk
    opp = services.move_opportunity(world.director, Opportunity.objects.get(pk=opp.pk), world.s2)  # back: stays at S3
    assert opp.furthest_stage_id == world.s3.pk
    lost = services.move_opportunity(world.director, Opportunity.objects.get(pk=opp.pk), world.lost, loss_reason=world.other)
    assert lost.furthest_stage_id == world.s3.pk  # losing is not progress
    won = services.move_opportunity(world.director, Opportunity.objects.get(pk=opp.pk), world.won)
    assert won.furthest_stage_id == world.won.pk and Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.won.pk
    # the history's view, recomputed from scratch, is the same for every deal
    kept = dict(Opportunity.objects.values_list("pk", "furthest_stage_id"))
    Opportunity.objects.update(furthest_stage=None)
    rollup.rebuild_furthest()
    assert dict(Opportunity.objects.values_list("pk", "furthest_stage_id")) == kept
    assert kept[world.deals.D.pk] == world.s2.pk and kept[world.deals.C.pk] == world.won.pk
    # a deal whose history rows were removed by hand: recomputed on request
    StageChange.objects.filter(opportunity=opp, to_stage__in=[world.won, world.s3]).delete()
    rollup.recompute_furthest([opp.pk])
    assert Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.s2.pk


def test_conversion_is_the_cohort_of_deals_created_in_the_period(world):
    """Deals created before the period do not count, whatever they did in it; a deal created in it counts with
    the furthest stage it has reached."""
    old = make_opportunity(world.rep1, world.pipeline, world.s1, created=world.now - datetime.timedelta(days=400))
    move(old, world.s1, old.created_at, from_stage=None)
    move(old, world.s4, world.now, from_stage=world.s1)
    today = timezone.localdate()
    recent = ReportFilters(pipeline=world.pipeline, period="custom", date_from=today - datetime.timedelta(days=60), date_to=today)
    data = queries.conversion(world.director, recent)
    assert data["deals"] == 8 and [s["reached"] for s in data["stages"]] == [8, 6, 4, 3]
    everything = queries.conversion(world.director, ReportFilters(pipeline=world.pipeline))
    assert everything["deals"] == 9 and [s["reached"] for s in everything["stages"]] == [9, 7, 5, 4]


def test_rebuild_command(world, capsys):
    StageMonth.objects.all().delete()
    Opportunity.objects.update(furthest_stage=None)
    call_command("rebuild_report_rollups")
    assert "monthly rows written" in capsys.readouterr().out
    assert StageMonth.objects.aggregate(n=Sum("moves"))["n"] == StageChange.objects.filter(from_stage__isnull=False).count()
    assert Opportunity.objects.filter(furthest_stage__isnull=False).count() == Opportunity.objects.aggregate(
        n=Count("id", filter=Q(stage_changes__isnull=False), distinct=True))["n"]


def test_a_stage_whose_history_is_gone_can_still_be_deleted(world):
    """Its monthly rows (zero after the deal's deletion) go with it instead of blocking the deletion."""
    from yingdan.opportunities.models import Stage

    extra = Stage.objects.create(pipeline=world.pipeline, name="临时阶段", kind="open", probability=20, order=15)
    opp = make_opportunity(world.rep1, world.pipeline, extra, amount="10")
    services.move_opportunity(world.director, opp, world.s2)
    assert StageMonth.objects.filter(from_stage=extra, moves=1).exists()
    services.delete_opportunity(world.director, Opportunity.objects.get(pk=opp.pk))
    assert StageMonth.objects.filter(from_stage=extra).aggregate(n=Sum("moves"))["n"] == 0
    services.delete_stage(world.director, extra)
    assert not Stage.objects.filter(pk=extra.pk).exists() and not StageMonth.objects.filter(from_stage_id=extra.pk).exists()


def test_reordering_stages_recomputes_the_furthest_stage(world, django_capture_on_commit_callbacks):
    """"Furthest" follows the current order: a deal that went S1 → S3 → S2 has S3 as furthest; with S2 moved after
    S3 it is S2 (recomputed in the worker after the reorder commits)."""
    opp = make_opportunity(world.rep1, world.pipeline, world.s1, amount="10")
    move(opp, world.s1, world.now, from_stage=None)
    for stage in (world.s3, world.s2):
        services.move_opportunity(world.director, Opportunity.objects.get(pk=opp.pk), stage)
    assert Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.s3.pk
    order = [world.s1.pk, world.s3.pk, world.s2.pk, world.s4.pk, world.won.pk, world.lost.pk]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.reorder_stages(world.director, world.pipeline, order)
    assert len([c for c in callbacks if "order_changed" in c.__qualname__]) == 1
    assert Opportunity.objects.get(pk=opp.pk).furthest_stage_id == world.s2.pk
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.reorder_stages(world.director, world.pipeline, order)  # the same order: nothing to recompute
    assert not [c for c in callbacks if "order_changed" in c.__qualname__]
