"""What the stage history feeds the reports besides its own rows: monthly sums (`StageMonth`) and each deal's
furthest stage (`Opportunity.furthest_stage`).

Both follow the history by themselves: every StageChange saved adds itself (`on_stage_change_saved`), every one
deleted subtracts itself from the monthly sums (`on_stage_change_deleted`, also for the cascade when a deal is
deleted) — so the service functions, the report fixtures and anything else that writes history through the ORM
keep them exact without knowing about them. Bulk loads (`bulk_create`, the demo and bench volumes) bypass signals and
call `rebuild()` afterwards; `yingdan rebuild_report_rollups` does the same by hand (e.g. after changing TIME_ZONE,
which moves month boundaries).

Why: the days-in-stage and SOP-compliance reports of a whole company read ~1M history rows a year; the monthly
sums hold a few thousand rows per month (pipeline × department × owner × stage). The conversion report counts deals
by furthest stage: one GROUP BY over the period's deals instead of a GROUP BY deal over their moves.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Subquery, Sum
from django.utils import timezone

from .models import Opportunity, Stage, StageChange, StageKind, StageMonth

BULK = 2000


def month_of(moment: datetime.datetime) -> datetime.date:
    """First day of the month of an aware datetime, in the installation's time zone (settings.TIME_ZONE)."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def month_start(day: datetime.date) -> datetime.datetime:
    """The first moment of a month (the installation's time zone)."""
    return datetime.datetime.combine(day.replace(day=1), datetime.time.min, tzinfo=timezone.get_default_timezone())


def split_period(start: datetime.datetime | None, end: datetime.datetime | None):
    """[start, end) cut at month boundaries: (whole, partial). `whole` is (first month, month after the last) of
    the whole months inside (either side None: unbounded), or None; `partial` lists (from, to, month) of the
    pieces at the edges that cover only part of a month (at most two)."""
    partial = []
    lo = hi = None
    if start is not None:
        lo = month_of(start)
        if start != month_start(lo):  # starts inside a month
            following = next_month(lo)
            stop = month_start(following) if end is None else min(month_start(following), end)
            partial.append((start, stop, lo))
            lo = following
    if end is not None:
        hi = month_of(end)
        if end != month_start(hi) and not (partial and partial[0][2] == hi):
            begin = month_start(hi) if start is None else max(month_start(hi), start)
            partial.append((begin, end, hi))
    whole = (lo, hi) if lo is None or hi is None or lo < hi else None
    return whole, partial


def next_month(day: datetime.date) -> datetime.date:
    return datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)


# -- kept by signals -----------------------------------------------------------------------------------
def _key(change) -> dict:
    return {
        "month": month_of(change.changed_at), "pipeline_id": change.pipeline_id, "department_id": change.department_id,
        "owner_id": change.owner_id, "from_stage_id": change.from_stage_id,
    }


def _add(change, sign: int) -> None:
    if change.from_stage_id is None:
        return
    seconds = change.seconds_in_previous
    days_over = float(change.days_over_limit or 0)
    key = _key(change)
    # One row of the key (there may be two after concurrent first moves of a month: either takes the sum).
    one = StageMonth.objects.filter(**key).order_by().values("pk")[:1]
    updated = StageMonth.objects.filter(pk__in=Subquery(one)).update(
        moves=F("moves") + sign,
        timed_moves=F("timed_moves") + (sign if seconds is not None else 0),
        seconds=F("seconds") + sign * (seconds or 0),
        complete=F("complete") + (sign if change.checklist_complete else 0),
        over_limit=F("over_limit") + (sign if days_over > 0 else 0),
        days_over=F("days_over") + sign * days_over,
    )
    if not updated and sign > 0:
        StageMonth.objects.create(
            **key, moves=1, timed_moves=int(seconds is not None), seconds=seconds or 0,
            complete=int(bool(change.checklist_complete)), over_limit=int(days_over > 0), days_over=days_over,
        )


def lower_ranked_ids(stage: Stage) -> list[int] | None:
    """Stages a move into `stage` goes beyond: the open stages before it (all of them for a won stage).
    None for a lost stage (losing is not progress)."""
    if stage.kind == StageKind.LOST:
        return None
    rows = Stage.objects.filter(pipeline_id=stage.pipeline_id, kind=StageKind.OPEN).values_list("id", "order")
    if stage.kind == StageKind.WON:
        return [pk for pk, _order in rows]
    return [pk for pk, order in rows if (order, pk) < (stage.order, stage.pk)]


def _raise_furthest(change) -> None:
    lower = lower_ranked_ids(change.to_stage)
    if lower is None:
        return
    updated = Opportunity.objects.filter(pk=change.opportunity_id).filter(
        Q(furthest_stage__isnull=True) | Q(furthest_stage_id__in=lower)
    ).update(furthest_stage_id=change.to_stage_id)
    cached = change._state.fields_cache.get("opportunity")
    if updated and cached is not None:
        cached.furthest_stage_id = change.to_stage_id


def on_stage_change_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        _add(instance, +1)
        _raise_furthest(instance)


def on_stage_change_deleted(sender, instance, **kwargs) -> None:
    _add(instance, -1)


# -- rebuild -------------------------------------------------------------------------------------------
def _month_ranges(first: datetime.datetime, last: datetime.datetime):
    month = month_of(first)
    end = month_of(last)
    while month <= end:
        following = next_month(month)
        yield month, month_start(month), month_start(following)
        month = following


@transaction.atomic
def rebuild_months(*, stage_change=StageChange, stage_month=StageMonth, log=None) -> int:
    """Recompute every monthly sum from the history (one grouped query per month). Returns the rows written."""
    stage_month.objects.all().delete()
    bounds = stage_change.objects.aggregate(first=Min("changed_at"), last=Max("changed_at"))
    if bounds["first"] is None:
        return 0
    written = 0
    for month, start, end in _month_ranges(bounds["first"], bounds["last"]):
        rows = (stage_change.objects.filter(changed_at__gte=start, changed_at__lt=end, from_stage__isnull=False).order_by()
                .values("pipeline_id", "department_id", "owner_id", "from_stage_id")
                .annotate(n=Count("*"), timed=Count("seconds_in_previous"), secs=Sum("seconds_in_previous"),
                          done=Count("id", filter=Q(checklist_complete=True)),
                          over=Count("id", filter=Q(days_over_limit__gt=0)), over_days=Sum("days_over_limit")))
        batch = [stage_month(
            month=month, pipeline_id=r["pipeline_id"], department_id=r["department_id"], owner_id=r["owner_id"],
            from_stage_id=r["from_stage_id"], moves=r["n"], timed_moves=r["timed"], seconds=r["secs"] or 0,
            complete=r["done"], over_limit=r["over"], days_over=float(r["over_days"] or 0),
        ) for r in rows]
        stage_month.objects.bulk_create(batch, batch_size=BULK)
        written += len(batch)
        if log and batch:
            log(f"stage months {month:%Y-%m}: {len(batch)} rows")
    return written


@transaction.atomic
def rebuild_furthest(*, opportunity=Opportunity, stage=Stage, stage_change=StageChange, pipeline_ids=None,
                     opportunity_ids=None) -> None:
    """Recompute the deals' furthest stage from their history (all deals, those of `pipeline_ids`, or the deals
    `opportunity_ids`): per pipeline, from the highest rank down, the deals with a move into a stage of that rank
    (won stages share the highest rank)."""
    deals_of = opportunity.objects.all()
    if opportunity_ids is not None:
        deals_of = deals_of.filter(pk__in=list(opportunity_ids))
        pipeline_ids = deals_of.values_list("pipeline_id", flat=True).distinct()
    if pipeline_ids is None:
        pipeline_ids = stage.objects.order_by().values_list("pipeline_id", flat=True).distinct()
    for pipeline_id in sorted(set(pipeline_ids)):
        stages = list(stage.objects.filter(pipeline_id=pipeline_id).order_by("order", "id"))
        won = [s.pk for s in stages if s.kind == StageKind.WON]
        ranks = ([(won[0], won)] if won else []) + [(s.pk, [s.pk]) for s in reversed(stages) if s.kind == StageKind.OPEN]
        deals = deals_of.filter(pipeline_id=pipeline_id)
        deals.update(furthest_stage=None)
        for target, ids in ranks:
            moved = stage_change.objects.filter(to_stage_id__in=ids).values("opportunity_id")
            deals.filter(furthest_stage__isnull=True, pk__in=moved).update(furthest_stage_id=target)


def order_changed(pipeline_id: int) -> None:
    """A pipeline's stage order or kinds changed: its deals' furthest stages are recomputed after the commit, in
    the worker (a pass over the pipeline's deals; the admin's request does not wait for it)."""
    from .tasks import recompute_pipeline_furthest

    transaction.on_commit(lambda: recompute_pipeline_furthest(pipeline_id))


def recompute_furthest(opportunity_ids) -> None:
    """The furthest stage of a few deals again (after history rows were removed by hand, e.g. the bench's clean-up)."""
    rebuild_furthest(opportunity_ids=opportunity_ids)


def rebuild(log=None) -> int:
    rebuild_furthest()
    return rebuild_months(log=log)
