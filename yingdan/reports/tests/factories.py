"""Report fixtures: pipelines, stages, opportunities and their stage history with known numbers.

Rows are created directly (the reports read history; they do not depend on how the opportunities app writes
it), with every timestamp under the test's control.
"""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal

from django.utils import timezone

from yingdan.core.models import Lookup
from yingdan.core.tests.factories import make_customer
from yingdan.opportunities.models import LossReason, Opportunity, Pipeline, Stage, StageChange, StageKind

_seq = itertools.count(1)


def make_pipeline(name: str | None = None, *, stages=None, **kw) -> Pipeline:
    """A pipeline with stages given as (name, kind, probability, time_limit_days, forecast_category)."""
    pipeline = Pipeline.objects.create(name=name or f"管道{next(_seq)}", **kw)
    stages = stages or [
        ("初步接触", "open", 10, 7, "pipeline"),
        ("需求确认", "open", 30, 14, "pipeline"),
        ("方案报价", "open", 60, 10, "best_case"),
        ("商务谈判", "open", 80, None, "commit"),
        ("赢单", "won", 100, None, "closed"),
        ("输单", "lost", 0, None, "omitted"),
    ]
    for i, (sname, kind, prob, limit, category) in enumerate(stages):
        Stage.objects.create(
            pipeline=pipeline, name=sname, kind=kind, probability=prob, time_limit_days=limit,
            forecast_category=category, order=(i + 1) * 10,
        )
    return pipeline


def stages_of(pipeline) -> list[Stage]:
    return list(pipeline.stages.order_by("order", "id"))


def at(days_ago: float, now=None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=days_ago)


def make_opportunity(owner, pipeline, stage, *, amount="1000", customer=None, created=None, entered=None,
                     closed=None, expected_close=None, probability=None, source=None, loss_reason=None, **kw) -> Opportunity:
    customer = customer or make_customer(owner)
    opp = Opportunity.objects.create(
        name=kw.pop("name", f"商机{next(_seq)}"), customer=customer, owner=owner, department_id=owner.department_id,
        pipeline=pipeline, stage=stage, state=stage.kind, amount=Decimal(amount),
        probability=stage.probability if probability is None else probability,
        expected_close=expected_close, stage_entered_at=entered or created or timezone.now(), closed_at=closed,
        source=source, loss_reason=loss_reason, created_by=owner, **kw,
    )
    if created is not None:
        Opportunity.objects.filter(pk=opp.pk).update(created_at=created)
        opp.created_at = created
    return opp


CURRENT = object()


def move(opp, to_stage, when, *, from_stage=CURRENT, seconds_in_previous=None, checklist_complete=True,
         days_over_limit=0.0, owner=None) -> StageChange:
    """One history row (from_stage defaults to the deal's current stage; None records a creation)."""
    owner = owner or opp.owner
    previous = opp.stage if from_stage is CURRENT else from_stage
    change = StageChange.objects.create(
        opportunity=opp, pipeline=opp.pipeline, from_stage=previous, to_stage=to_stage, changed_by=owner,
        owner=owner, department_id=owner.department_id if owner else None, changed_at=when,
        seconds_in_previous=seconds_in_previous, checklist_complete=checklist_complete, days_over_limit=days_over_limit,
    )
    return change


def history(opp, path, start, *, days_each=2.0) -> None:
    """Record the deal's life along `path` (stages, the first is its creation), `days_each` days per stage,
    and leave the deal in the last stage."""
    when = start
    StageChange.objects.create(
        opportunity=opp, pipeline=opp.pipeline, from_stage=None, to_stage=path[0], changed_by=opp.owner, owner=opp.owner,
        department_id=opp.department_id, changed_at=when, seconds_in_previous=None,
    )
    for prev, nxt in itertools.pairwise(path):
        when = when + datetime.timedelta(days=days_each)
        move(opp, nxt, when, from_stage=prev, seconds_in_previous=int(days_each * 86400))
    last = path[-1]
    Opportunity.objects.filter(pk=opp.pk).update(
        stage=last, state=last.kind, probability=last.probability, stage_entered_at=when, closed_at=when if last.kind != StageKind.OPEN else None,
    )
    opp.refresh_from_db()


def make_source(label: str) -> Lookup:
    return Lookup.objects.create(kind="opportunity_source", name=label)


def make_loss_reason(name: str, parent=None) -> LossReason:
    return LossReason.objects.create(name=name, parent=parent)
