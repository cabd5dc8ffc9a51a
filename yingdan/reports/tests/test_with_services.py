"""The reports read the history the opportunities app writes: deals created and moved through
`yingdan.opportunities.services` (the stage gate) show up with the expected figures."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yingdan.core.tests.factories import make_customer
from yingdan.opportunities import services
from yingdan.opportunities.models import ChecklistItem, LossReason, Opportunity

from .. import queries
from ..filters import ReportFilters
from .factories import make_pipeline, stages_of

pytestmark = pytest.mark.django_db


def test_real_moves_feed_funnel_win_rate_and_sop(world):
    pipeline = make_pipeline("服务流程")
    s1, s2, _s3, _s4, won, lost = stages_of(pipeline)
    ChecklistItem.objects.create(stage=s1, text="确认预算", required=True)
    ChecklistItem.objects.create(stage=s2, text="提交方案", required=True)
    rep = world.rep1
    deals = []
    for amount in ("1000", "3000"):
        opp = Opportunity(name=f"服务商机{amount}", customer=make_customer(rep), pipeline=pipeline, stage=s1,
                          amount=Decimal(amount), owner=rep)
        deals.append(services.save_opportunity(rep, opp))
    a, b = deals
    item1 = s1.checklist.get()
    # a: S1 -> S2 with the step ticked in place (complete), then won with S2's step ticked too
    a = services.move_opportunity(rep, a, s2, checklist={item1.pk: {"done": True}})
    a = services.move_opportunity(rep, a, won, checklist={s2.checklist.get().pk: {"done": True}})
    # b: S1 -> S2 with the step done, then lost without S2's step (losing is not gated): not complete
    b = services.move_opportunity(rep, b, s2, checklist={item1.pk: {"done": True}})
    b = services.move_opportunity(rep, b, lost, loss_reason=LossReason.objects.create(name="预算取消"))

    f = ReportFilters(pipeline=pipeline, period="all")
    win = queries.win_rate(rep, f)["total"]
    assert (win["won"], win["lost"], win["win_rate"], win["won_amount"]) == (1, 1, 50.0, Decimal("1000.00"))
    sop = queries.sop_compliance(rep, ReportFilters(pipeline=pipeline, period="all"))["total"]
    assert (sop["moves"], sop["complete"], sop["compliance_rate"]) == (4, 3, 75.0)
    conv = queries.conversion(rep, f)
    assert [s["reached"] for s in conv["stages"]] == [2, 2, 1, 1] and conv["won"] == 1
    assert queries.funnel(rep, f)["total"]["count"] == 0  # both closed
    assert queries.loss_reasons(rep, f)["total"]["count"] == 1
