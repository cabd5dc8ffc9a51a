"""The benchmark volumes (yingdan.demo.scale.ensure_bench_data), at a small size: each volume consistent with
the others and seeded once."""

import pytest
from django.db.models import Count, Max

from yingdan.customers.models import Customer
from yingdan.demo import sales, scale, volumes
from yingdan.followups.models import FollowUp
from yingdan.leads.models import Lead
from yingdan.opportunities.models import Opportunity, Pipeline, StageChange
from yingdan.pools.models import Pool

pytestmark = pytest.mark.django_db

N = 400


@pytest.fixture
def seeded():
    messages = []
    seconds = scale.ensure_bench_data(customers=N, log=messages.append, seed=7)
    return seconds


def test_volumes_are_seeded_once(seeded):
    assert set(seeded) == {"customers", "pools", "follow-ups", "leads", "opportunities"}
    counts = scale.bench_volumes()
    assert scale.ensure_bench_data(customers=N, log=lambda m: None) == {}  # detected: nothing seeded again
    assert scale.bench_volumes() == counts


def test_customers_pools_and_followups(seeded):
    assert Customer.objects.count() == N
    assert not Customer.objects.filter(dedupe_name="").exists()
    pooled = Customer.objects.filter(pool__isnull=False)
    assert N * 0.02 <= pooled.count() <= N * 0.08
    assert not pooled.filter(owner__isnull=False).exists() and not pooled.filter(previous_owner__isnull=True).exists()
    assert Pool.objects.filter(object_type="customer", is_default=True).exists()
    assert Pool.objects.filter(object_type="customer", departments__isnull=False).count() == len(scale.REGION_NAMES)
    total = FollowUp.objects.count()
    assert N * volumes.FOLLOWUPS_PER_CUSTOMER * 0.8 <= total <= N * volumes.FOLLOWUPS_PER_CUSTOMER * 1.2
    latest = dict(FollowUp.objects.values("customer_id").annotate(m=Max("occurred_at")).values_list("customer_id", "m"))
    for c in Customer.objects.all():
        assert c.last_contact_at == latest.get(c.pk), c.pk
        if c.pool_id:
            assert c.pool_entered_at > (c.last_contact_at or c.owner_since or c.created_at)
    for f in FollowUp.objects.select_related("type")[:50]:
        assert f.type.kind == "followup_type" and f.owner_id and f.department_id and f.content


def test_leads_and_opportunities(seeded):
    leads = Lead.objects.all()
    assert leads.count() == int(N * volumes.LEADS_PER_CUSTOMER)
    for lead in leads[:30]:
        lead.full_clean()
        assert lead.dedupe_name and lead.search_name
    opps = Opportunity.objects.select_related("stage")
    assert opps.count() == int(N * volumes.OPPS_PER_CUSTOMER)
    changes = StageChange.objects.count()
    assert abs(changes - opps.count() * volumes.STAGE_CHANGES_PER_OPP) <= opps.count() * 0.1
    kanban = Pipeline.objects.get(name=sales.KANBAN_PIPELINE_NAME)
    assert Opportunity.objects.filter(pipeline=kanban, state="open").count() == min(volumes.KANBAN_OPEN, opps.count() // 20)
    for o in opps:
        assert o.state == o.stage.kind and o.stage.pipeline_id == o.pipeline_id
        assert (o.closed_at is None) == (o.state == "open")
        if o.state == "lost":
            assert o.loss_reason_id
    by_opp = StageChange.objects.values("opportunity").annotate(n=Count("id"), last=Max("changed_at"))
    assert all(row["n"] >= 1 for row in by_opp)
    for ch in StageChange.objects.filter(from_stage__isnull=False)[:200]:
        assert ch.seconds_in_previous > 0 and ch.days_over_limit >= 0 and ch.owner_id and ch.department_id
    won = Opportunity.objects.filter(state="won").values_list("customer_id", flat=True).distinct()
    assert set(Customer.objects.filter(status__code="won").values_list("id", flat=True)) == set(won)
    # the reports' roll-ups were rebuilt after the bulk load (bulk rows bypass the signals that keep them)
    from django.db.models import Sum

    from yingdan.opportunities.models import StageMonth

    assert StageMonth.objects.aggregate(n=Sum("moves"))["n"] == StageChange.objects.filter(from_stage__isnull=False).count()
    assert not Opportunity.objects.filter(furthest_stage__isnull=True, state__in=["open", "won"]).exists()


def test_seed_command_scale_volumes():
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("seed", "--scale", "60", "--volumes", stdout=out)
    assert Customer.objects.count() == 60
    assert FollowUp.objects.exists() and Lead.objects.exists() and Opportunity.objects.exists()
    call_command("seed", "--scale", "60", "--volumes", stdout=out)  # all present: nothing added
    assert Customer.objects.count() == 60 and "nothing (all present)" in out.getvalue()
