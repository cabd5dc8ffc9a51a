"""Generic API test cases (NetBox-style): declare the endpoint and its data, get the standard checks.

    class TestCustomerAPI(APIViewTestCase):
        model = Customer
        basename = "customer"            # router basename: customer-list / customer-detail
        module = "customers"             # permission module
        scope = "own"                    # data scope of the permitted role

        def make_visible(self, env): ...  # an object inside the permitted user's scope
        def make_hidden(self, env): ...   # an object outside it (None: the module has no row scope)
        def create_payload(self, env): ...
        def update_payload(self, env): ...
        def invalid_payloads(self, env): ...  # [(payload, "field_with_error"), ...]

Checks: anonymous 401; signed in without the module permission 403; permitted list/get/create/update/delete;
an out-of-scope object is absent from the list and 404 on get/patch/delete (and untouched); invalid payloads
are 400 in the one error format with the field named, and write nothing (no row, no change-log entry);
a read-only token cannot write.

`env` holds two departments (d1, d2), the permitted `user` (in d1), `other` (same role, in d2), `noperm`
(signed in, no permission on the module), `admin`, and the objects `visible` and `hidden`.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from yingdan.core import registry
from yingdan.core.models import ObjectChange
from yingdan.org.models import ApiToken

from .factories import make_department, make_role, make_user


def api_client(user=None, *, read_only: bool = False) -> APIClient:
    """A client authenticated with a real token (so the change log sees the user and the 'api' source)."""
    client = APIClient()
    if user is not None:
        _token, key = ApiToken.issue(user, name="test", read_only=read_only)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def assert_error(response, status: int, field: str | None = None, code: str | None = None) -> dict:
    """The one error format: {"error": {"code", "message", "fields"?}}."""
    assert response.status_code == status, (response.status_code, getattr(response, "data", response.content))
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] and error["message"], body
    if code:
        assert error["code"] == code, body
    if field is not None:
        assert status == 400 and error["code"] == "validation_error", body
        path = field.split(".")
        node = error["fields"]
        for part in path:
            assert part in node, (field, body)
            node = node[part]
        assert node and all(isinstance(m, str) and m for m in node), body
    return error


class APIViewTestCase:
    model = None
    basename = ""
    module = ""
    scope = "own"
    # Extra module grants for the permitted role, e.g. {"customers": {"actions": ["view"], "scope": "own"}}.
    extra_permissions: dict = {}
    # Users: only administrators write. Then writes are made by env.admin and a non-admin gets 403.
    admin_writes = False
    deletable = True

    # --- to declare -----------------------------------------------------------------------------
    def make_visible(self, env):
        raise NotImplementedError

    def make_hidden(self, env):
        raise NotImplementedError

    def create_payload(self, env) -> dict:
        raise NotImplementedError

    def update_payload(self, env) -> dict:
        raise NotImplementedError

    def invalid_payloads(self, env) -> list[tuple[dict, str]]:
        raise NotImplementedError

    # --- set-up ---------------------------------------------------------------------------------
    def permitted_permissions(self) -> dict:
        actions = list(registry.modules[self.module].actions)
        return {self.module: {"actions": actions, "scope": self.scope}, **self.extra_permissions}

    @pytest.fixture
    def env(self, db):
        env = SimpleNamespace()
        env.d1 = make_department("销售一部")
        env.d2 = make_department("销售二部")
        env.role = make_role(f"可操作{self.module}", self.permitted_permissions())
        env.user = make_user("permitted", department=env.d1, roles=[env.role], name="许可用户")
        env.other = make_user("other", department=env.d2, roles=[env.role], name="其他用户")
        env.noperm = make_user("noperm", department=env.d1, roles=[make_role("无权限", {})])
        env.admin = make_user("admin1", ["admin"], department=env.d1, name="管理员")
        self.setup_env(env)
        env.visible = self.make_visible(env)
        env.hidden = self.make_hidden(env)
        return env

    def setup_env(self, env) -> None:
        """Hook for extra fixtures (lookups, customers...)."""

    def writer(self, env):
        return env.admin if self.admin_writes else env.user

    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, obj) -> str:
        return reverse(f"{self.basename}-detail", args=[obj.pk])

    def snapshot_counts(self) -> tuple[int, int]:
        return self.model._default_manager.count(), ObjectChange.objects.count()

    def assert_stored(self, obj, payload: dict) -> None:
        """Every scalar / FK / M2M value of `payload` is what the database now holds."""
        obj = self.model._default_manager.get(pk=obj.pk)
        for name, value in payload.items():
            if name in ("password", "custom_fields"):
                continue
            field = self.model._meta.get_field(name)
            if field.many_to_many:
                assert sorted(getattr(obj, name).values_list("pk", flat=True)) == sorted(value), name
            elif field.is_relation:
                assert getattr(obj, field.attname) == value, name
            else:
                assert getattr(obj, name) == value, (name, getattr(obj, name), value)

    # --- the checks -----------------------------------------------------------------------------
    def test_anonymous_is_refused(self, env):
        client = api_client()
        assert_error(client.get(self.list_url()), 401, code="not_authenticated")
        assert_error(client.get(self.detail_url(env.visible)), 401)
        before = self.snapshot_counts()
        assert_error(client.post(self.list_url(), self.create_payload(env), format="json"), 401)
        if self.deletable:
            assert_error(client.delete(self.detail_url(env.visible)), 401)
        assert self.snapshot_counts() == before

    def test_without_module_permission_is_403(self, env):
        client = api_client(env.noperm)
        assert_error(client.get(self.list_url()), 403, code="permission_denied")
        assert_error(client.get(self.detail_url(env.visible)), 403)
        before = self.snapshot_counts()
        assert_error(client.post(self.list_url(), self.create_payload(env), format="json"), 403)
        assert_error(client.patch(self.detail_url(env.visible), self.update_payload(env), format="json"), 403)
        if self.deletable:
            assert_error(client.delete(self.detail_url(env.visible)), 403)
        assert self.snapshot_counts() == before

    def test_list_shows_only_objects_in_scope(self, env):
        response = api_client(env.user).get(self.list_url(), {"page_size": 500})
        assert response.status_code == 200, response.data
        ids = {row["id"] for row in response.json()["results"]}
        assert env.visible.pk in ids
        if env.hidden is not None:
            assert env.hidden.pk not in ids

    def test_get_object(self, env):
        response = api_client(env.user).get(self.detail_url(env.visible))
        assert response.status_code == 200, response.data
        body = response.json()
        assert body["id"] == env.visible.pk
        assert body["display"] == str(env.visible)
        assert body["url"].endswith(self.detail_url(env.visible))

    def test_out_of_scope_object_is_404(self, env):
        if env.hidden is None:
            pytest.skip("this module has no row-level scope (all or nothing)")
        client = api_client(env.user)
        assert_error(client.get(self.detail_url(env.hidden)), 404, code="not_found")
        before = self.snapshot_counts()
        write_status = 403 if self.admin_writes else 404
        assert_error(client.patch(self.detail_url(env.hidden), self.update_payload(env), format="json"), write_status)
        assert_error(client.put(self.detail_url(env.hidden), self.create_payload(env), format="json"), write_status)
        if self.deletable:
            assert_error(client.delete(self.detail_url(env.hidden)), write_status)
        assert self.snapshot_counts() == before
        assert self.model._default_manager.filter(pk=env.hidden.pk).exists()
        # The 404 body does not leak the object's name.
        body = client.get(self.detail_url(env.hidden)).content.decode()
        assert str(env.hidden) not in body

    def test_create(self, env):
        writer = self.writer(env)
        payload = self.create_payload(env)
        response = api_client(writer).post(self.list_url(), payload, format="json")
        assert response.status_code == 201, response.data
        obj = self.model._default_manager.get(pk=response.json()["id"])
        self.assert_stored(obj, payload)
        entry = ObjectChange.objects.filter(object_id=obj.pk, action="create").order_by("-id").first()
        assert entry is not None and entry.source == "api" and entry.user_id == writer.pk

    def test_update(self, env):
        payload = self.update_payload(env)
        response = api_client(self.writer(env)).patch(self.detail_url(env.visible), payload, format="json")
        assert response.status_code == 200, response.data
        self.assert_stored(env.visible, payload)

    def test_delete(self, env):
        client = api_client(self.writer(env))
        if not self.deletable:
            assert_error(client.delete(self.detail_url(env.visible)), 405)
            assert self.model._default_manager.filter(pk=env.visible.pk).exists()
            return
        victim = self.make_visible(env)
        response = client.delete(self.detail_url(victim))
        assert response.status_code == 204, getattr(response, "data", None)
        assert not self.model._default_manager.filter(pk=victim.pk).exists()

    def test_invalid_payloads_write_nothing(self, env):
        client = api_client(self.writer(env))
        cases = self.invalid_payloads(env)
        assert cases, "declare at least one invalid payload"
        for payload, field in cases:
            before = self.snapshot_counts()
            assert_error(client.post(self.list_url(), payload, format="json"), 400, field=field)
            assert self.snapshot_counts() == before, payload

    def test_invalid_update_writes_nothing(self, env):
        client = api_client(self.writer(env))
        payload, field = self.invalid_payloads(env)[0]
        before_row = self.model._default_manager.filter(pk=env.visible.pk).values().get()
        before = self.snapshot_counts()
        assert_error(client.patch(self.detail_url(env.visible), payload, format="json"), 400, field=field)
        assert self.snapshot_counts() == before
        assert self.model._default_manager.filter(pk=env.visible.pk).values().get() == before_row

    def test_read_only_token_cannot_write(self, env):
        client = api_client(self.writer(env), read_only=True)
        assert client.get(self.list_url()).status_code == 200
        before = self.snapshot_counts()
        assert_error(client.post(self.list_url(), self.create_payload(env), format="json"), 403)
        assert_error(client.patch(self.detail_url(env.visible), self.update_payload(env), format="json"), 403)
        if self.deletable:
            assert_error(client.delete(self.detail_url(env.visible)), 403)
        assert self.snapshot_counts() == before
