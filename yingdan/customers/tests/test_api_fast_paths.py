"""The API's fast paths give the same answers as the plain ones: URLs from a per-request template, filters
skipped only when no filter parameter is given, foreign keys loaded in batches instead of joined."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework.reverse import reverse
from rest_framework.test import APIRequestFactory

from yingdan.core.api.fields import detail_url
from yingdan.core.models import Lookup, Tag
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
    tags = [Tag.objects.get_or_create(name=name)[0] for name in ("重点", "A类", "渠道")]
    for i, c in enumerate(made):
        c.tags.set(tags[: i % 4])
        if i % 3 == 0 and previous_owner is not None:
            c.collaborators.set([previous_owner])
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


def test_a_write_answers_with_the_new_relations(env):
    _dept, user, _other = env
    customer = _customers(user, 2, previous_owner=user)[1]
    tag = Tag.objects.create(name="新标签")
    client = api_client(user)
    response = client.patch(f"/api/v1/customers/{customer.pk}/", {"tags": [tag.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert [t["id"] for t in response.json()["tags"]] == [tag.pk]
    assert [t["id"] for t in client.get(f"/api/v1/customers/{customer.pk}/").json()["tags"]] == [tag.pk]


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

    assert any(row["tags"] for row in fast["results"]) and any(row["collaborators"] for row in fast["results"])

    from yingdan.core.api import viewsets

    joined = (*CustomerViewSet.select_related_fields, *CustomerViewSet.batch_related_fields)
    monkeypatch.setattr(CustomerViewSet, "select_related_fields", joined)
    monkeypatch.setattr(CustomerViewSet, "batch_related_fields", ())
    monkeypatch.setattr(viewsets, "plain_many_to_many", lambda model, name: False)  # Django's prefetch
    assert client.get("/api/v1/customers/").json() == fast
    assert client.get(f"/api/v1/customers/{one}/").json() == fast_one


# -- permissions, department tree and custom-field definitions cached per process (core/api/cache.py) -----
def test_get_by_id_reads_few_queries(env):
    _dept, user, _other = env
    customer = make_customer(user)
    client = api_client(user)
    client.get(f"/api/v1/customers/{customer.pk}/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    # token + user, the customer, its tags, its collaborators (lookups from the per-process cache)
    assert len(captured.captured_queries) <= 4, [q["sql"][:120] for q in captured.captured_queries]


def test_role_change_applies_to_the_next_request(env):
    from yingdan.core.tests.factories import system_actor
    from yingdan.org.services import save_role, save_user

    dept, user, _other = env
    colleague = make_user("colleague", department=dept, roles=list(user.roles.all()))
    theirs = make_customer(colleague)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 200  # department scope

    role = user.roles.get()
    role.permissions = {"customers": {"actions": ["view"], "scope": "own"}}
    save_role(system_actor(), role)
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404

    save_user(system_actor(), user, roles=[])
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 403


def test_department_changes_apply_to_the_next_request(env):
    from yingdan.core.tests.factories import system_actor
    from yingdan.org.services import save_department, save_user

    dept, user, other = env
    role = user.roles.get()
    role.permissions = {"customers": {"actions": ["view"], "scope": "department_tree"}}
    from yingdan.org.services import save_role

    save_role(system_actor(), role)
    sub = make_department("上海", parent=other.department)
    rep = make_user("rep-sh", department=sub, roles=[role])
    far = make_customer(rep)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{far.pk}/").status_code == 404

    sub.parent = dept  # the sub-department moves under the user's department
    save_department(system_actor(), sub)
    assert client.get(f"/api/v1/customers/{far.pk}/").status_code == 200

    user.department = other.department  # the user moves (their own row: read with the token)
    save_user(system_actor(), user)
    assert client.get(f"/api/v1/customers/{far.pk}/").status_code == 404


def test_custom_field_definitions_apply_to_the_next_request(env):
    from yingdan.core.tests.factories import make_custom_field

    _dept, user, _other = env
    customer = make_customer(user)
    client = api_client(user)
    assert "vip_no" not in client.get(f"/api/v1/customers/{customer.pk}/").json()["custom_fields"]
    field = make_custom_field(Customer, "vip_no")
    assert "vip_no" in client.get(f"/api/v1/customers/{customer.pk}/").json()["custom_fields"]
    field.is_active = False
    field.save()
    assert "vip_no" not in client.get(f"/api/v1/customers/{customer.pk}/").json()["custom_fields"]


# -- the rate limit's counter on Redis: one round trip, same numbers ----------------------------------------
def _redis_url():
    url = "redis://127.0.0.1:6379/14"
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:  # noqa: BLE001
        return None
    return url


@pytest.mark.skipif(_redis_url() is None, reason="no Redis on 127.0.0.1:6379")
def test_rate_limit_on_redis(env):
    from django.core.cache import caches
    from django.test import override_settings

    from yingdan.core.api import throttling

    _dept, user, other = env
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url(),
                               "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    with override_settings(CACHES=redis_cache, API_RATE_LIMIT="3/minute"):
        try:
            assert [throttling.count("k", 5) for _ in range(3)] == [1, 2, 3]
            assert caches["default"].get("k") == 3  # the same value Django's cache API reads
            backend = caches["default"]
            full = backend.make_and_validate_key("k")
            assert 0 < backend._cache.get_client(full).ttl(full) <= 5

            api = api_client(user)
            first = api.get("/api/v1/customers/")
            assert first["X-RateLimit-Limit"] == "3" and first["X-RateLimit-Remaining"] == "2"
            api.get("/api/v1/customers/")
            assert api.get("/api/v1/customers/")["X-RateLimit-Remaining"] == "0"
            assert api.get("/api/v1/customers/").status_code == 429
            assert api_client(other).get("/api/v1/customers/").status_code == 200
        finally:
            backend = caches["default"]
            client = backend._cache.get_client(backend.make_and_validate_key("k"), write=True)
            client.delete(*client.keys(backend.make_and_validate_key("*")))


def test_lookup_changes_apply_to_the_next_request(env):
    from yingdan.core.services import save_lookup
    from yingdan.core.tests.factories import system_actor

    _dept, user, _other = env
    level = Lookup.objects.filter(kind="customer_level").first()
    customer = make_customer(user, level=level)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["level"]["name"] == level.name
    level.name = "战略客户X"
    save_lookup(system_actor(), level)
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["level"]["name"] == "战略客户X"
    new = Lookup.objects.create(kind="customer_level", name="新等级")  # a row the cache has not seen
    Customer.objects.filter(pk=customer.pk).update(level=new)
    assert client.get(f"/api/v1/customers/{customer.pk}/").json()["level"]["name"] == "新等级"
