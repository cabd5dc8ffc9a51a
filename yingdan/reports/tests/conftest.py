"""A small sales world with numbers worked out by hand (see the comments), shared by the report tests.

Pipeline stages: S1 初步接触 (limit 7 d), S2 需求确认 (14 d), S3 方案报价 (10 d), S4 商务谈判, W 赢单, L 输单.

rep1 (team d1a, under d1):               rep2 (team d2):
  A S1→S2→S3→W  1,000  1 day per stage    G S1→S2       700  6 days per stage (open)
  B S1→S2→W     2,000  2 days             H S1→L         50  7 days (lost: 其他)
  C S1→W        3,000  3 days
  D S1→S2→L       500  4 days (lost: 价格/太贵)
  E S1            100  (open, never moved)
  F S1→S2→S3      400  5 days (open, moved into S3 two days ago)

Win rate rep1 3/(3+1) = 75 %, rep2 0/1 = 0 %, all 3/5 = 60 %.
Conversion (max stage reached: A,B,C won; D S2; E S1; F S3; G S2; H S1): reached S1 8, S2 6, S3 4, S4 3, won 3.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from yingdan.core.tests.factories import make_department, make_user
from yingdan.opportunities.models import Opportunity

from .factories import history, make_loss_reason, make_opportunity, make_pipeline, make_source, stages_of


@pytest.fixture
def world(db):
    now = timezone.now()
    start = now - datetime.timedelta(days=40)
    d1 = make_department("华东区")
    d1a = make_department("上海组", parent=d1)
    d2 = make_department("华南区")
    manager = make_user("mgr", ["manager"], department=d1, name="经理")
    rep1 = make_user("rep1", ["rep"], department=d1a, name="张三")
    rep2 = make_user("rep2", ["rep"], department=d2, name="李四")
    director = make_user("boss", ["director"], department=d1, name="总监")
    nobody = make_user("nobody", [], department=d1)
    pipeline = make_pipeline("报表测试流程")
    s1, s2, s3, s4, won, lost = stages_of(pipeline)
    web, expo = make_source("官网"), make_source("展会")
    price = make_loss_reason("价格")
    too_expensive = make_loss_reason("太贵", parent=price)
    other = make_loss_reason("其他")

    def deal(owner, path, amount, days_each, **kw):
        opp = make_opportunity(owner, pipeline, path[0], amount=amount, created=start, **kw)
        history(opp, path, start, days_each=days_each)
        return opp

    deals = SimpleNamespace(
        A=deal(rep1, [s1, s2, s3, won], "1000", 1, source=web, expected_close=datetime.date(2030, 1, 5)),
        B=deal(rep1, [s1, s2, won], "2000", 2, source=web),
        C=deal(rep1, [s1, won], "3000", 3, source=expo),
        D=deal(rep1, [s1, s2, lost], "500", 4, source=expo, loss_reason=too_expensive),
        E=deal(rep1, [s1], "100", 1, expected_close=datetime.date(2030, 1, 15)),
        F=deal(rep1, [s1, s2, s3], "400", 5, expected_close=datetime.date(2030, 2, 10)),
        G=deal(rep2, [s1, s2], "700", 6, expected_close=datetime.date(2030, 1, 20)),
        H=deal(rep2, [s1, lost], "50", 7, loss_reason=other),
    )
    # F moved into S3 two days ago: not stalled (limit 10 days). E (40 d in S1) and G (34 d in S2) are.
    Opportunity.objects.filter(pk=deals.F.pk).update(stage_entered_at=now - datetime.timedelta(days=2))
    return SimpleNamespace(
        now=now, start=start, d1=d1, d1a=d1a, d2=d2, manager=manager, rep1=rep1, rep2=rep2, director=director,
        nobody=nobody, pipeline=pipeline, s1=s1, s2=s2, s3=s3, s4=s4, won=won, lost=lost, web=web, expo=expo,
        price=price, too_expensive=too_expensive, other=other, deals=deals,
    )
