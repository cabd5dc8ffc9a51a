from types import SimpleNamespace

import pytest
from django.urls import reverse

from yingdan.core.tests import factories
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.customers.models import Customer
from yingdan.pools.models import Pool, PoolEvent

from .base import make_org, pooled_customer


@pytest.fixture
def org(db):
    env = SimpleNamespace()
    make_org(env)
    return env


def url(name, pk):
    return reverse(f"customer-{name}", args=[pk])


def test_claim_over_the_api(org):
    c = pooled_customer(org.east, org.director)
    r = api_client(org.rep1).post(url("claim", c.pk), {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["owner"]["id"] == org.rep1.pk and r.json()["pool"] is None
    assert_error(api_client(org.rep2).post(url("claim", c.pk), {}, format="json"), 400)
    assert_error(api_client(org.noperm).post(url("claim", c.pk), {}, format="json"), 403)
    assert_error(api_client(org.rep1).post(url("claim", 999999), {}, format="json"), 404)
    c.refresh_from_db()
    assert c.owner_id == org.rep1.pk


def test_claim_by_a_non_member_is_refused(org):
    c = pooled_customer(org.east, org.director)
    assert_error(api_client(org.rep_b).post(url("claim", c.pk), {}, format="json"), 403)
    c.refresh_from_db()
    assert c.owner_id is None


def test_release_needs_a_reason(org):
    c = factories.make_customer(org.rep1)
    client = api_client(org.rep1)
    assert_error(client.post(url("release", c.pk), {}, format="json"), 400, field="reason")
    assert_error(client.post(url("release", c.pk), {"reason": "  "}, format="json"), 400, field="reason")
    c.refresh_from_db()
    assert c.owner_id == org.rep1.pk
    r = client.post(url("release", c.pk), {"reason": "无预算"}, format="json")
    assert r.status_code == 200 and r.json() == {"count": 1}
    c.refresh_from_db()
    assert c.pool_id == org.east.pk and c.owner_id is None


def test_release_outside_scope_is_404(org):
    c = factories.make_customer(org.rep2)
    assert_error(api_client(org.rep1).post(url("release", c.pk), {"reason": "x"}, format="json"), 404)


def test_assign_only_by_pool_admins(org):
    c = pooled_customer(org.east, org.director)
    assert_error(api_client(org.rep1).post(url("assign", c.pk), {"owner": org.rep2.pk}, format="json"), 403)
    assert_error(api_client(org.pool_admin).post(url("assign", c.pk), {"owner": org.inactive.pk}, format="json"), 400, field="owner")
    r = api_client(org.pool_admin).post(url("assign", c.pk), {"owner": org.rep2.pk}, format="json")
    assert r.status_code == 200, r.content
    c.refresh_from_db()
    assert c.owner_id == org.rep2.pk


def test_transfer(org):
    c = factories.make_customer(org.rep1)
    assert_error(api_client(org.rep1).post(url("transfer", c.pk), {"owner": org.rep2.pk}, format="json"), 403)
    assert_error(api_client(org.manager).post(url("transfer", c.pk), {"owner": org.inactive.pk}, format="json"), 400, field="owner")
    r = api_client(org.manager).post(url("transfer", c.pk), {"owner": org.rep2.pk}, format="json")
    assert r.status_code == 200 and r.json()["count"] == 1
    c.refresh_from_db()
    assert c.owner_id == org.rep2.pk
    assert PoolEvent.objects.filter(object_id=c.pk, kind="transfer").count() == 1


def test_pool_list_and_claim_through_the_pool(org):
    pooled_customer(org.east, org.director)
    r = api_client(org.rep1).get(reverse("pool-list"))
    assert r.status_code == 200
    rows = {p["id"]: p for p in r.json()["results"]} if "results" in r.json() else {p["id"]: p for p in r.json()}
    assert org.east.pk in rows and rows[org.east.pk]["record_count"] == 1
    r = api_client(org.rep_b).get(reverse("pool-list"))
    ids = [p["id"] for p in (r.json()["results"] if "results" in r.json() else r.json())]
    assert org.east.pk not in ids and org.default_pool.pk in ids
    assert_error(api_client(org.rep_b).get(reverse("pool-detail", args=[org.east.pk])), 404)
    assert_error(api_client(org.noperm).get(reverse("pool-list")), 403)

    c = pooled_customer(org.east, org.director)
    claim = reverse("pool-claim", args=[org.east.pk])
    assert_error(api_client(org.rep1).post(claim, {}, format="json"), 400, field="object_id")
    r = api_client(org.rep1).post(claim, {"object_id": c.pk}, format="json")
    assert r.status_code == 200, r.content
    assert_error(api_client(org.rep2).post(claim, {"object_id": c.pk}, format="json"), 400)
    c.refresh_from_db()
    assert c.owner_id == org.rep1.pk


def test_pool_assign_endpoint(org):
    cs = [pooled_customer(org.east, org.director) for _ in range(2)]
    assign = reverse("pool-assign", args=[org.east.pk])
    body = {"object_ids": [c.pk for c in cs], "owner": org.rep2.pk}
    assert_error(api_client(org.rep1).post(assign, body, format="json"), 403)
    r = api_client(org.pool_admin).post(assign, body, format="json")
    assert r.status_code == 200 and r.json()["count"] == 2


def test_hidden_fields_while_in_pool(org):
    Pool.objects.filter(pk=org.east.pk).update(hidden_fields=["phone"])
    c = pooled_customer(org.east, org.director, phone="13800138000")
    Customer.objects.filter(pk=c.pk).update(department=org.team_a)
    as_manager = api_client(org.manager).get(reverse("customer-detail", args=[c.pk]))
    assert as_manager.status_code == 200 and "phone" not in as_manager.json()
    as_director = api_client(org.director).get(reverse("customer-detail", args=[c.pk]))
    assert as_director.json()["phone"] == "13800138000"


def test_lead_pool_claim_through_the_pool_endpoint(org):
    from yingdan.leads.models import Lead

    lead_pool = Pool.objects.get(object_type="lead", is_default=True)
    lead = Lead(name="线索甲", company="甲公司", owner=org.rep2)
    lead.sync_department()
    lead.save()
    from yingdan.pools import services

    assert services.release(org.rep2, Lead, [lead.pk], "无效线索") == 1
    lead.refresh_from_db()
    assert lead.pool_id == lead_pool.pk and lead.owner_id is None
    r = api_client(org.rep1).post(reverse("pool-claim", args=[lead_pool.pk]), {"object_id": lead.pk}, format="json")
    assert r.status_code == 200, r.content
    lead.refresh_from_db()
    assert lead.owner_id == org.rep1.pk
    assert PoolEvent.objects.filter(object_id=lead.pk).count() == 2
