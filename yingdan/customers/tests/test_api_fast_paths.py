"""The API's fast paths give the same answers as the plain ones: URLs from a per-request template, filters
skipped only when no filter parameter is given, foreign keys loaded in batches instead of joined."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.reverse import reverse
from rest_framework.test import APIRequestFactory

from yingdan.core.api.fields import detail_url
from yingdan.core.models import Lookup
from yingdan.core.tests.api_base import api_client
from yingdan.core.tests.factories import make_customer, make_department, make_role, make_user
from yingdan.customers.api.views import CustomerViewSet
from yingdan.customers.models import Customer
from yingdan.pools.models import Pool

pytestmark = pytest.mark.django_db

CUSTOMER_RIGHTS = {"customers": {"actions": ["view", "create", "edit", "delete"], "scope": "department"}}


@pytest.fixture
def env():
    dept = make_department("华东")
    role = make_role("区域销售", CUSTOMER_RIGHTS)
    user = make_user("fast", department=dept, roles=[role])
    other = make_user("fast2", department=make_department("华南"), roles=[role])
    return dept, user, other


def _customers(user, n: int, *, previous_owner=None):
    levels = list(Lookup.objects.filter(kind="customer_level"))
    industries = list(Lookup.objects.filter(kind="industry"))
    made = [
        make_customer(user, level=levels[i % len(levels)] if levels else None,
                      industry=industries[i % len(industries)] if industries else None)
        for i in range(n)
    ]
    pool = Pool.objects.filter(object_type="customer").first() or Pool.objects.create(name="公海")
    # Half of them look like customers claimed back from a pool (pool + previous owner set).
    Customer.objects.filter(pk__in=[c.pk for c in made[::2]]).update(pool=pool, previous_owner=previous_owner)
    return made


def test_detail_url_is_reverse():
    request = Request(APIRequestFactory().get("/api/v1/customers/", HTTP_HOST="localhost:8443"))
    for pk in (1, 42, 2**62):
        assert detail_url("customer-detail", pk, request) == reverse("customer-detail", args=[pk], request=request)
        assert detail_url("user-detail", pk, request, kwarg="pk") == reverse("user-detail", kwargs={"pk": pk}, request=request)
    assert detail_url("customer-detail", 7) == reverse("customer-detail", args=[7])
    assert detail_url("customer-detail", "7", request) == reverse("customer-detail", args=["7"], request=request)


def test_urls_in_responses_are_absolute_and_per_object(env):
    _dept, user, _other = env
    customers = _customers(user, 3, previous_owner=user)
    client = api_client(user)
    data = client.get("/api/v1/customers/").json()["results"]
    by_id = {row["id"]: row for row in data}
    for c in customers:
        row = by_id[c.pk]
        assert row["url"] == f"http://testserver/api/v1/customers/{c.pk}/"
        assert row["owner"]["url"] == f"http://testserver/api/v1/users/{user.pk}/"


def test_filters_still_apply_to_a_get_by_id(env):
    _dept, user, other = env
    customer = make_customer(user)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    assert client.get(f"/api/v1/customers/{customer.pk}/?page_size=5&ordering=-id").status_code == 200
    assert client.get(f"/api/v1/customers/{customer.pk}/?owner={user.pk}").status_code == 200
    assert client.get(f"/api/v1/customers/{customer.pk}/?owner={other.pk}").status_code == 404
    # A filter value is still validated.
    assert client.get("/api/v1/customers/?owner=abc").status_code == 400
    listed = client.get(f"/api/v1/customers/?owner={other.pk}").json()["results"]
    assert listed == []


def test_list_queries_do_not_grow_with_rows(env):
    _dept, user, other = env
    _customers(user, 2, previous_owner=other)
    client = api_client(user)
    client.get("/api/v1/customers/")  # token last-used stamp, first-call set-up
    with CaptureQueriesContext(connection) as few:
        assert client.get("/api/v1/customers/").status_code == 200
    _customers(user, 8, previous_owner=user)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/api/v1/customers/")
    assert len(response.json()["results"]) == 10
    assert len(many.captured_queries) == len(few.captured_queries)


def test_batched_relations_render_like_joined_ones(env, monkeypatch):
    _dept, user, other = env
    _customers(user, 6, previous_owner=other)
    client = api_client(user)
    fast = client.get("/api/v1/customers/").json()
    one = fast["results"][0]["id"]
    fast_one = client.get(f"/api/v1/customers/{one}/").json()
    assert any(row["pool"] for row in fast["results"]) and any(row["level"] for row in fast["results"])

    joined = (*CustomerViewSet.select_related_fields, *CustomerViewSet.batch_related_fields)
    monkeypatch.setattr(CustomerViewSet, "select_related_fields", joined)
    monkeypatch.setattr(CustomerViewSet, "batch_related_fields", ())
    assert client.get("/api/v1/customers/").json() == fast
    assert client.get(f"/api/v1/customers/{one}/").json() == fast_one
