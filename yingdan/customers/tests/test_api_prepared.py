"""GET by id from compiled SQL (core/api/prepared.py) and with a re-used field set (BaseModelSerializer.fields)
answers exactly what the ordinary path answers: the same JSON for a customer with custom fields, tags,
collaborators, a previous owner and a pool; the same 404 outside the data scope and 403 without the module
permission; token revocation, role and scope changes seen on the next request; field permissions per user."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yingdan.core.api import cache as api_cache
from yingdan.core.api import prepared
from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.models import Lookup, Tag
from yingdan.core.tests.api_base import api_client
from yingdan.core.tests.factories import (
    make_contact,
    make_custom_field,
    make_customer,
    make_department,
    make_role,
    make_user,
)
from yingdan.customers.api.views import ContactViewSet, CustomerViewSet
from yingdan.customers.models import Customer
from yingdan.org.models import ApiToken
from yingdan.pools.models import Pool

pytestmark = pytest.mark.django_db

RIGHTS = {
    "customers": {"actions": ["view", "create", "edit", "delete"], "scope": "department"},
    "contacts": {"actions": ["view", "create", "edit", "delete"], "scope": "department"},
}


@pytest.fixture
def env():
    dept = make_department("华东")
    role = make_role("区域销售", RIGHTS)
    user = make_user("prep", department=dept, roles=[role])
    colleague = make_user("prep2", department=dept, roles=[role])
    outsider = make_user("prep3", department=make_department("华南"), roles=[role])
    return user, colleague, outsider


def _rich_customer(user, colleague):
    make_custom_field(Customer, "vip_no")
    make_custom_field(Customer, "budget", type="integer")
    level = Lookup.objects.filter(kind="customer_level").first()
    industry = Lookup.objects.filter(kind="industry").first()
    customer = make_customer(user, level=level, industry=industry, phone="021-12345678", province="上海",
                             custom_fields={"vip_no": "V-001", "budget": 12})
    customer.tags.set([Tag.objects.get_or_create(name=n)[0] for n in ("重点", "渠道")])
    customer.collaborators.set([colleague])
    pool = Pool.objects.filter(object_type="customer").first() or Pool.objects.create(name="公海")
    Customer.objects.filter(pk=customer.pk).update(previous_owner=colleague, pool=pool, pool_entered_at=timezone.now())
    make_contact(customer, mobile="13800138000")
    return customer


def _both_paths(client, monkeypatch, url):
    """(fast, ordinary) responses of `url`: prepared path on, then off."""
    fast = client.get(url)
    again = client.get(url)  # second call: the compiled shape is re-used
    assert (again.status_code, again.content) == (fast.status_code, fast.content)
    with monkeypatch.context() as m:
        m.setattr(CustomerViewSet, "prepared_get", False)
        m.setattr(ContactViewSet, "prepared_get", False)
        m.setattr(prepared, "fetch", lambda *a, **k: None)  # token, relations: the ordinary queries too
        m.setattr(BaseModelSerializer, "_shared_fields_key", lambda self: None)  # fields built per serializer
        plain = client.get(url)
    return fast, plain


def test_get_by_id_is_the_serializers_output(env, monkeypatch):
    user, colleague, _outsider = env
    customer = _rich_customer(user, colleague)
    client = api_client(user)
    prepared.clear()
    fast, plain = _both_paths(client, monkeypatch, f"/api/v1/customers/{customer.pk}/")
    assert fast.status_code == plain.status_code == 200
    assert fast.json() == plain.json()
    shapes = {k[0] for k, (_t, v) in prepared._shapes.items() if isinstance(v, prepared.Prepared)}
    assert shapes >= {"api-token", "get", "many", "in-bulk"}, shapes  # the fast path was taken
    data = fast.json()
    assert data["custom_fields"] == {"vip_no": "V-001", "budget": 12}
    assert {t["name"] for t in data["tags"]} == {"重点", "渠道"}
    assert [c["id"] for c in data["collaborators"]] == [colleague.pk]
    assert data["previous_owner"]["id"] == colleague.pk and data["pool"] and data["level"]

    contact = customer.contacts.get()
    fast, plain = _both_paths(client, monkeypatch, f"/api/v1/contacts/{contact.pk}/")
    assert fast.status_code == plain.status_code == 200
    assert fast.json() == plain.json()


def test_outside_the_scope_is_404_and_without_the_module_403(env, monkeypatch):
    user, _colleague, outsider = env
    theirs = make_customer(outsider)
    contact = make_contact(theirs)
    client = api_client(user)
    for url in (f"/api/v1/customers/{theirs.pk}/", f"/api/v1/contacts/{contact.pk}/", "/api/v1/customers/999999999/"):
        fast, plain = _both_paths(client, monkeypatch, url)
        assert fast.status_code == plain.status_code == 404
        assert fast.json() == plain.json()

    nobody = make_user("prep4", department=user.department, roles=[make_role("无权限", {})])
    mine = make_customer(user)
    fast, plain = _both_paths(api_client(nobody), monkeypatch, f"/api/v1/customers/{mine.pk}/")
    assert fast.status_code == plain.status_code == 403
    assert fast.json() == plain.json()


def test_the_compiled_query_follows_the_scope(env):
    from yingdan.core.tests.factories import system_actor
    from yingdan.org.services import save_role

    user, colleague, _outsider = env
    theirs = make_customer(colleague)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 200
    role = user.roles.get()
    role.permissions = {**RIGHTS, "customers": {"actions": ["view"], "scope": "own"}}
    save_role(system_actor(), role)
    assert client.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/customers/{make_customer(user).pk}/").status_code == 200
    # Another user's compiled query is not this one's.
    assert api_client(colleague).get(f"/api/v1/customers/{theirs.pk}/").status_code == 200


def test_revoked_or_inactive_token_user_is_refused_at_once(env):
    user, _colleague, _outsider = env
    customer = make_customer(user)
    token, key = ApiToken.issue(user, name="t")
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # no signal: read with every request
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 401
    _token2, key2 = ApiToken.issue(user, name="t2")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key2}")
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 401


def test_query_parameters_take_the_ordinary_path(env):
    user, _colleague, outsider = env
    customer = make_customer(user)
    client = api_client(user)
    assert client.get(f"/api/v1/customers/{customer.pk}/?owner={outsider.pk}").status_code == 404
    assert client.get(f"/api/v1/customers/{customer.pk}/?owner={user.pk}").status_code == 200


def test_get_by_id_queries(env):
    user, colleague, _outsider = env
    customer = _rich_customer(user, colleague)
    client = api_client(user)
    client.get(f"/api/v1/customers/{customer.pk}/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    # token + user, the customer with owner/department/creator, tags, collaborators, the previous owner
    # (the pool and lookups from the per-process cache, or one query for the pool)
    assert len(captured.captured_queries) <= 6, [q["sql"][:120] for q in captured.captured_queries]


def test_authz_key_is_dropped_with_the_permissions(env):
    from yingdan.core.permissions import clear_cache

    user, _colleague, _outsider = env

    class Req:
        pass

    api_cache.user_authz(user, Req())
    assert api_cache.authz_key(user) is not None
    clear_cache(user)
    assert api_cache.authz_key(user) is None


def test_prepare_refuses_what_it_cannot_replay(env):
    user, _colleague, _outsider = env
    assert prepared.prepare(Customer.objects.prefetch_related("tags").filter(pk=prepared.INT_SENTINEL), {"pk": prepared.INT_SENTINEL}) is prepared._UNPREPARABLE
    assert prepared.prepare(Customer.objects.filter(pk=1), {"pk": prepared.INT_SENTINEL}) is prepared._UNPREPARABLE
    assert prepared.prepare(Customer.objects.none(), {"pk": prepared.INT_SENTINEL}) is prepared._EMPTY
    c = make_customer(user)
    shape = prepared.prepare(Customer.objects.select_related("owner").filter(pk=prepared.INT_SENTINEL), {"pk": prepared.INT_SENTINEL})
    (got,) = shape.rows({"pk": c.pk})
    assert got.pk == c.pk and got.owner == user and got.name == c.name and got.created_at == Customer.objects.get(pk=c.pk).created_at
    assert shape.rows({"pk": c.pk + 1000}) == []


def test_field_permissions_with_shared_field_sets(env, monkeypatch):
    user, colleague, _outsider = env
    customer = _rich_customer(user, colleague)
    hiding = make_role("隐藏电话", RIGHTS, field_permissions={"customers": {"phone": "hidden", "cf_vip_no": "hidden",
                                                                        "remarks": "read"}})
    boss = make_user("prep5", department=user.department, roles=[hiding])
    url = f"/api/v1/customers/{customer.pk}/"
    full, limited = api_client(user), api_client(boss)
    answers = [(full.get(url).json(), limited.get(url).json()) for _ in range(2)]
    assert answers[0] == answers[1]
    mine, theirs = answers[0]
    assert mine["phone"] == "021-12345678" and "vip_no" in mine["custom_fields"]
    assert "phone" not in theirs and "vip_no" not in theirs["custom_fields"] and "remarks" in theirs
    _fast, plain = _both_paths(limited, monkeypatch, url)
    assert plain.json() == theirs
    # A write by the limited user still refuses the hidden field (writes never share field sets).
    response = limited.patch(url, {"phone": "021-87654321"}, format="json")
    assert response.status_code == 400, response.content
    assert full.get(url).json() == mine


@pytest.mark.django_db(False)
def test_url_templates_are_per_host_and_format(settings):
    from rest_framework.request import Request
    from rest_framework.reverse import reverse
    from rest_framework.test import APIRequestFactory

    from yingdan.core.api.fields import detail_url

    settings.ALLOWED_HOSTS = ["a.example.com", "b.example.com"]
    factory = APIRequestFactory()
    for host, path in (("a.example.com", "/api/v1/customers/"), ("b.example.com:8443", "/api/v1/customers/"),
                       ("a.example.com", "/api/v1/customers/?format=json"), ("a.example.com", "/api/v1/customers/")):
        request = Request(factory.get(path, HTTP_HOST=host))
        for pk in (3, 12345):
            assert detail_url("customer-detail", pk, request) == reverse("customer-detail", args=[pk], request=request)
            assert detail_url("user-detail", pk, request) == reverse("user-detail", args=[pk], request=request)


def test_config_version_read_through_the_reused_redis_client():
    import uuid

    import redis
    from django.core.cache import caches
    from django.test import override_settings

    url = "redis://127.0.0.1:6379/14"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis on 127.0.0.1:6379")
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                               "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    with override_settings(CACHES=redis_cache):
        backend = caches["default"]
        try:
            first = api_cache.current_version()
            assert first == backend.get(api_cache.VERSION_KEY) == api_cache.current_version()
            api_cache.bump()
            assert api_cache.current_version() == backend.get(api_cache.VERSION_KEY) != first
            assert api_cache.redis_client(backend) is api_cache.redis_client(backend)
        finally:
            client = api_cache.redis_client(backend, write=True)
            client.delete(*client.keys(backend.make_and_validate_key("*")) or ["none"])


# -- API requests resolve with the API include first (core/api/urlconf.py) --------------------------------
def _pattern_names(patterns, ns=""):
    from django.urls import URLResolver

    out = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _pattern_names(p.url_patterns, ns + (f"{p.namespace}:" if p.namespace else ""))
        elif p.name:
            out.append(ns + p.name)
    return out


@pytest.mark.django_db(False)
def test_api_first_urlconf_is_the_same_site():
    from django.urls import Resolver404, URLResolver, resolve, reverse

    import yingdan.urls as site
    from yingdan.core.api.urlconf import api_first_urlconf

    urlconf = api_first_urlconf()
    assert urlconf is not None and sorted(map(str, urlconf.urlpatterns)) == sorted(map(str, site.urlpatterns))
    pages = [p for p in site.urlpatterns if not (isinstance(p, URLResolver) and str(p.pattern) == "api/")]
    api = [p for p in site.urlpatterns if p not in pages]
    assert not set(_pattern_names(pages)) & set(_pattern_names(api))  # no URL name in both
    for path in ("/api/v1/", "/api/v1/customers/", "/api/v1/customers/12/", "/api/v1/contacts/3/", "/api/v1/customers/12.json",
                 "/api/v1/customers/12/claim/", "/api/schema/", "/api/docs/", "/api/v1/nothing/", "/api/", "/api/v1/customers/x/"):
        try:
            plain = resolve(path)
        except Resolver404:
            plain = None
        try:
            first = resolve(path, urlconf=urlconf)
        except Resolver404:
            first = None
        assert (plain and (plain.func, plain.url_name, plain.kwargs)) == (first and (first.func, first.url_name, first.kwargs)), path
    for name, args in (("customer-detail", [5]), ("customers:customer_detail", [5]), ("login", []), ("home", [])):
        assert reverse(name, args=args) == reverse(name, args=args, urlconf=urlconf)


def test_api_request_runs_with_the_api_first_urlconf(env):
    user, _colleague, _outsider = env
    client = api_client(user)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 200
    assert response.wsgi_request.urlconf is not None
    assert client.get("/api/v1/nothing-here/").status_code == 404
    assert api_client().get("/").status_code in (200, 302)  # pages keep the root URLconf


def test_session_users_take_the_ordinary_path_with_the_same_answer(env):
    from rest_framework.test import APIClient

    user, colleague, outsider = env
    customer = _rich_customer(user, colleague)
    theirs = make_customer(outsider)
    by_token = api_client(user).get(f"/api/v1/customers/{customer.pk}/").json()
    session = APIClient()
    session.force_login(user)
    assert session.get(f"/api/v1/customers/{customer.pk}/").json() == by_token
    assert session.get(f"/api/v1/customers/{theirs.pk}/").status_code == 404
