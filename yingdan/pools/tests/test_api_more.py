"""API endpoints added by the coverage audit: pool configuration (create/edit/delete through save_pool /
delete_pool, validated like the pool form), the company-wide settings and recycling (preview, run now)."""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.customers.models import Customer
from yingdan.pools import services
from yingdan.pools.models import Pool, PoolSettings

from .base import make_org, pooled_customer


@pytest.fixture
def org(db):
    env = SimpleNamespace()
    make_org(env)
    env.admin = factories.make_user("pool_boss", ["admin"], env.region_a)
    return env


def test_create_edit_delete_pool(org):
    client = api_client(org.admin)
    payload = {"name": "华南线索池", "object_type": "lead", "departments": [org.region_b.pk], "admins": [org.rep_b.pk],
               "hidden_fields": ["mobile", "email"], "recycle_enabled": True,
               "recycle_rules": {"default": {"no_followup_days": 30, "no_won_days": None}}}
    response = client.post(reverse("pool-list"), payload, format="json")
    assert response.status_code == 201, response.json()
    pool = Pool.objects.get(pk=response.json()["id"])
    assert pool.object_type == "lead" and list(pool.departments.all()) == [org.region_b] and list(pool.admins.all()) == [org.rep_b]
    assert pool.recycle_rules == {"default": {"no_followup_days": 30, "no_won_days": None}}
    assert ObjectChange.objects.filter(object_id=pool.pk, action="create").exists()
    detail = reverse("pool-detail", args=[pool.pk])
    response = client.patch(detail, {"name": "华南线索池二", "hold_cap": 50}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "华南线索池二"
    assert_error(client.patch(detail, {"object_type": "customer"}, format="json"), 400, field="object_type")
    assert client.delete(detail).status_code == 204
    assert not Pool.objects.filter(pk=pool.pk).exists()


def test_pool_validation_matches_the_form(org):
    client = api_client(org.admin)
    base = {"name": "x", "object_type": "customer"}
    assert_error(client.post(reverse("pool-list"), {**base, "hidden_fields": ["mobile"]}, format="json"), 400, field="hidden_fields")
    assert_error(client.post(reverse("pool-list"), {**base, "recycle_enabled": True}, format="json"), 400, field="recycle_rules")
    bad_rules = [{"default": {"no_followup_days": 0}}, {"default": {"no_followup_days": "30"}}, {"default": {"other": 3}},
                 {"999999": {"no_followup_days": 3}}, ["default"]]
    for rules in bad_rules:
        assert_error(client.post(reverse("pool-list"), {**base, "recycle_rules": rules}, format="json"), 400, field="recycle_rules")
    level = Lookup.objects.filter(kind="customer_level").first()
    ok = client.post(reverse("pool-list"), {**base, "recycle_enabled": True,
                                            "recycle_rules": {str(level.pk): {"no_followup_days": None, "no_won_days": 90}}}, format="json")
    assert ok.status_code == 201, ok.json()
    # The recycler reads what the API stored.
    assert services._rules(Pool.objects.get(pk=ok.json()["id"]))


def test_pool_writes_are_refused_without_the_module_and_non_empty_pools_stay(org):
    assert_error(api_client(org.rep1).post(reverse("pool-list"), {"name": "x"}, format="json"), 403)
    assert_error(api_client(org.pool_admin).patch(reverse("pool-detail", args=[org.east.pk]), {"name": "y"}, format="json"), 403)
    assert_error(api_client(org.rep1).delete(reverse("pool-detail", args=[org.east.pk])), 403)
    pooled_customer(org.east, org.rep1)
    assert_error(api_client(org.admin).delete(reverse("pool-detail", args=[org.east.pk])), 400)
    assert Pool.objects.filter(pk=org.east.pk).exists()


def test_settings(org):
    url = reverse("pool-pool-settings")
    assert_error(api_client(org.rep1).get(url), 403)
    assert_error(api_client(org.rep1).put(url, {"customer_hold_cap": 1}, format="json"), 403)
    client = api_client(org.admin)
    assert client.get(url).json() == {"customer_hold_cap": None, "lead_hold_cap": None, "count_won": False}
    response = client.patch(url, {"customer_hold_cap": 200, "count_won": True}, format="json")
    assert response.status_code == 200, response.json()
    s = PoolSettings.get()
    assert s.customer_hold_cap == 200 and s.count_won is True and s.lead_hold_cap is None
    assert_error(client.patch(url, {"lead_hold_cap": -1}, format="json"), 400, field="lead_hold_cap")


def test_recycling_preview_and_run(org):
    org.east.recycle_enabled = True
    org.east.recycle_rules = {"default": {"no_followup_days": 10, "no_won_days": None}}
    org.east.save()
    customer = factories.make_customer(org.rep1)
    old = timezone.now() - datetime.timedelta(days=60)
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=old, owner_since=old, created_at=old)
    url = reverse("pool-recycling")
    assert_error(api_client(org.rep1).get(url), 403)
    assert_error(api_client(org.pool_admin).post(url), 403)
    client = api_client(org.admin)
    preview = client.get(url)
    assert preview.status_code == 200, preview.json()
    expected = services.recycle(dry_run=True)
    assert preview.json()["total"] == expected.total >= 1
    assert {(r["object_type"], r["pool"]): r["count"] for r in preview.json()["pools"]} == dict(expected.per_pool)
    assert client.post(url).status_code == 202
    customer.refresh_from_db()
    assert customer.pool_id == org.east.pk and customer.owner_id is None


def test_pool_records_list_hides_the_pool_hidden_fields(org):
    Pool.objects.filter(pk=org.east.pk).update(hidden_fields=["phone"])
    older = pooled_customer(org.east, org.director, name="甲池公司", phone="13800138000")
    newer = pooled_customer(org.east, org.director, name="乙池公司", phone="13900139000")
    pooled_customer(org.default_pool, org.director, name="别池公司")  # another pool: not listed
    url = reverse("pool-records", args=[org.east.pk])
    body = api_client(org.rep1).get(url).json()
    assert [r["id"] for r in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0]["name"] == "乙池公司"
    assert "phone" not in body["results"][0]["fields"] and "previous_owner" in body["results"][0]["fields"]
    as_admin = api_client(org.pool_admin).get(url).json()  # the pool's admin sees the hidden fields
    assert as_admin["results"][0]["fields"]["phone"] == "13900139000"
    assert_error(api_client(org.noperm).get(url), 403)
    assert_error(api_client(org.rep_b).get(url), 404)  # the east pool is not in rep_b's region
