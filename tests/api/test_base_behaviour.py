"""Behaviour every endpoint gets from the base classes: idempotency, bulk writes, rate limiting, error format."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.customers.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rep():
    return make_user("base_rep", ["rep"], make_department("一部"))


def test_idempotency_replay_and_mismatch(rep):
    api = api_client(rep)
    body = {"name": "幂等客户有限公司"}
    first = api.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    again = api.post("/api/v1/customers/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Customer.objects.filter(name="幂等客户有限公司").count() == 1
    assert_error(api.post("/api/v1/customers/", {"name": "别的名字"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"), 422,
                 code="idempotency_key_mismatch")
    # another key or no key: a new request
    assert api.post("/api/v1/customers/", {"name": "另一家公司"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    # keys are per user
    other = api_client(make_user("base_other", ["rep"]))
    assert other.post("/api/v1/customers/", {"name": "第三家公司"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201


def test_bulk_create_per_item_results(rep):
    api = api_client(rep)
    items = [{"name": "批量一公司"}, {"name": ""}, {"name": "批量二公司", "phone": "not-a-phone"}, {"name": "批量三公司"}]
    response = api.post("/api/v1/customers/bulk/", items, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 2 and body["failed"] == 2
    statuses = [r["status"] for r in body["results"]]
    assert statuses == [201, 400, 400, 201]
    assert "name" in body["results"][1]["error"]["fields"]
    assert "phone" in body["results"][2]["error"]["fields"]
    assert set(Customer.objects.values_list("name", flat=True)) == {"批量一公司", "批量三公司"}


def test_bulk_update_scope_and_limit(rep):
    api = api_client(rep)
    mine = make_customer(rep, name="我的公司")
    theirs = make_customer(make_user("base_x", ["rep"]), name="别人的公司")
    response = api.patch("/api/v1/customers/bulk/", [{"id": mine.pk, "short_name": "我的"}, {"id": theirs.pk, "short_name": "偷改"}], format="json")
    body = response.json()
    assert [r["status"] for r in body["results"]] == [200, 404] and body["updated"] == 1
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert mine.short_name == "我的" and theirs.short_name != "偷改"
    assert_error(api.post("/api/v1/customers/bulk/", [{"name": f"c{i}"} for i in range(1001)], format="json"), 400, "items")
    assert_error(api.post("/api/v1/customers/bulk/", {"name": "x"}, format="json"), 400, "items")
    assert not Customer.objects.filter(name="c0").exists()


def test_bulk_read_only_token_refused(rep):
    assert_error(api_client(rep, read_only=True).post("/api/v1/customers/bulk/", [{"name": "x公司"}], format="json"), 403)


@override_settings(API_RATE_LIMIT="3/minute")
def test_rate_limit_headers_and_429(rep):
    api = api_client(rep)
    first = api.get("/api/v1/customers/")
    assert first["X-RateLimit-Limit"] == "3" and first["X-RateLimit-Remaining"] == "2"
    assert 0 < int(first["X-RateLimit-Reset"]) <= 61
    api.get("/api/v1/customers/")
    assert api.get("/api/v1/customers/")["X-RateLimit-Remaining"] == "0"
    limited = api.get("/api/v1/customers/")
    assert_error(limited, 429, code="throttled")
    assert int(limited["Retry-After"]) > 0 and limited["X-RateLimit-Remaining"] == "0"
    # per token: another token of another user is not limited
    assert api_client(make_user("base_y", ["rep"])).get("/api/v1/customers/").status_code == 200


def test_one_error_format(rep):
    api = api_client(rep)
    assert_error(api_client().get("/api/v1/customers/"), 401)
    assert_error(api.get("/api/v1/customers/999999999/"), 404, code="not_found")
    assert_error(api.get("/api/v1/changes/"), 403, code="permission_denied")
    assert_error(api.post("/api/v1/customers/", {"name": ""}, format="json"), 400, "name")
    assert_error(api.post("/api/v1/customers/", "{bad json", content_type="application/json"), 400)
    assert_error(api.put("/api/v1/customers/", {}, format="json"), 405)


def test_leads_assign_team_action():
    from yingdan.core.tests.factories import system_actor
    from yingdan.leads import services
    from yingdan.leads.models import AssignmentRule, Lead

    d1, d2 = make_department("销售一部"), make_department("销售二部")
    manager = make_user("lead_mgr", ["admin"], d1)
    member = make_user("lead_member", ["rep"], d2)
    services.save_assignment_rule(system_actor(), AssignmentRule(department=d2, method="round_robin"))
    lead = services.save_lead(manager, Lead(name="待分配线索", owner=manager))
    response = api_client(manager).post("/api/v1/leads/assign-team/", {"ids": [lead.pk], "department": d2.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 1
    lead.refresh_from_db()
    assert lead.owner == member
    assert_error(api_client(member).post("/api/v1/leads/assign-team/", {"ids": [lead.pk], "department": d1.pk}, format="json"), 403)
