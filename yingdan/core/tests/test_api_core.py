"""Core endpoints (custom fields, lookups, change log), the schema and docs, tokens and the error format."""

import io
from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from yingdan.core.models import CustomField, Lookup, ObjectChange
from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_role, make_user
from yingdan.customers.models import Customer
from yingdan.org.models import ApiToken, hash_token


@pytest.fixture
def people(db):
    d = make_department("总部")
    return {
        "admin": make_user("boss", ["admin"], department=d),
        "rep": make_user("rep", ["rep"], department=d),
        "settings_viewer": make_user("auditor", department=d, roles=[make_role("审计", {"settings": {"actions": ["view"], "scope": "all"}})]),
    }


# --- custom field definitions --------------------------------------------------------------------
def test_custom_field_definitions_admin_only(people):
    payload = {"object_type": "customers.customer", "name": "budget", "label": "预算", "type": "money"}
    assert_error(api_client(people["rep"]).get("/api/v1/custom-fields/"), 403)
    assert_error(api_client(people["rep"]).post("/api/v1/custom-fields/", payload, format="json"), 403)
    assert_error(api_client(people["settings_viewer"]).post("/api/v1/custom-fields/", payload, format="json"), 403)
    assert api_client(people["settings_viewer"]).get("/api/v1/custom-fields/").status_code == 200

    client = api_client(people["admin"])
    response = client.post("/api/v1/custom-fields/", payload, format="json")
    assert response.status_code == 201, response.data
    field = CustomField.objects.get(pk=response.json()["id"])
    assert_error(client.patch(f"/api/v1/custom-fields/{field.pk}/", {"type": "text"}, format="json"), 400)
    assert_error(client.delete(f"/api/v1/custom-fields/{field.pk}/"), 405)
    assert client.patch(f"/api/v1/custom-fields/{field.pk}/", {"is_active": False}, format="json").status_code == 200
    assert not CustomField.objects.get(pk=field.pk).is_active


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"object_type": "customers.nope", "name": "x", "label": "x", "type": "text"}, "object_type"),
        ({"object_type": "customers.customer", "name": "Bad Key", "label": "x", "type": "text"}, "name"),
        ({"object_type": "customers.customer", "name": "phone", "label": "x", "type": "text"}, "name"),
        ({"object_type": "customers.customer", "name": "x", "label": "x", "type": "colour"}, "type"),
        ({"object_type": "customers.customer", "name": "x", "label": "x", "type": "select", "choices": []}, "choices"),
        ({"object_type": "customers.customer", "name": "x", "label": "x", "type": "text", "regex": "("}, "regex"),
    ],
)
def test_custom_field_definition_validation(people, payload, field):
    before = CustomField.objects.count()
    assert_error(api_client(people["admin"]).post("/api/v1/custom-fields/", payload, format="json"), 400, field=field)
    assert CustomField.objects.count() == before


# --- lookups -------------------------------------------------------------------------------------
def test_lookups_readable_by_everyone_writable_with_settings(people):
    rep = api_client(people["rep"])
    rows = rep.get("/api/v1/lookups/", {"kind": "customer_level", "page_size": 100}).json()["results"]
    assert rows and {r["kind"] for r in rows} == {"customer_level"}
    assert_error(rep.post("/api/v1/lookups/", {"kind": "industry", "name": "航天"}, format="json"), 403)

    admin = api_client(people["admin"])
    response = admin.post("/api/v1/lookups/", {"kind": "industry", "name": "航天"}, format="json")
    assert response.status_code == 201, response.data
    assert_error(admin.post("/api/v1/lookups/", {"kind": "industry", "name": "航天"}, format="json"), 400)
    assert_error(admin.post("/api/v1/lookups/", {"kind": "planets", "name": "火星"}, format="json"), 400, field="kind")
    assert_error(admin.delete(f"/api/v1/lookups/{response.json()['id']}/"), 405)


def test_inactive_lookup_cannot_be_chosen(people):
    level = Lookup.objects.create(kind="customer_level", name="停用等级", is_active=False)
    response = api_client(people["rep"]).post("/api/v1/customers/", {"name": "x", "level": level.pk}, format="json")
    assert_error(response, 400, field="level")


# --- change log ----------------------------------------------------------------------------------
def test_change_log_is_settings_view_only_and_filterable(people):
    rep = api_client(people["rep"])
    created = rep.post("/api/v1/customers/", {"name": "日志公司"}, format="json").json()
    rep.patch(f"/api/v1/customers/{created['id']}/", {"short_name": "日志"}, format="json")
    make_customer(people["admin"], name="别的")
    assert_error(rep.get("/api/v1/changes/"), 403)

    client = api_client(people["settings_viewer"])
    body = client.get("/api/v1/changes/", {"object_type": "customers.customer", "object_id": created["id"]}).json()
    actions = [r["action"] for r in body["results"]]
    assert actions == ["update", "create"]
    first = body["results"][0]
    assert first["source"] == "api" and first["user"]["username"] == "rep" and first["object_type"] == "customers.customer"
    assert first["changes"]["short_name"] == ["", "日志"]
    assert {r["object_repr"] for r in client.get("/api/v1/changes/", {"user": people["rep"].pk}).json()["results"]} == {"日志公司"}
    future = (timezone.now() + timedelta(days=1)).isoformat()
    assert client.get("/api/v1/changes/", {"time_after": future}).json()["results"] == []
    assert_error(client.get("/api/v1/changes/", {"object_type": "no.such"}), 400, field="object_type")
    # Append-only: no write methods.
    change_id = first["id"]
    admin = api_client(people["admin"])
    assert admin.delete(f"/api/v1/changes/{change_id}/").status_code == 405
    assert admin.patch(f"/api/v1/changes/{change_id}/", {"object_repr": "x"}, format="json").status_code == 405
    assert ObjectChange.objects.filter(pk=change_id).exists()


# --- error format and authentication -------------------------------------------------------------
def test_error_format_for_404_405_and_bad_token(people):
    client = api_client(people["admin"])
    assert_error(client.get("/api/v1/customers/999999/"), 404, code="not_found")
    assert_error(client.delete("/api/v1/users/1/"), 405, code="method_not_allowed")
    bad = api_client()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    assert_error(bad.get("/api/v1/customers/"), 401, code="authentication_failed")


def test_expired_and_revoked_tokens_are_refused(people):
    token, key = ApiToken.issue(people["rep"], expires_at=timezone.now() - timedelta(seconds=1))
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert_error(client.get("/api/v1/me/"), 401)
    token, key = ApiToken.issue(people["rep"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert_error(client.get("/api/v1/me/"), 401)


def test_session_auth_needs_csrf_for_writes(people):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(people["rep"])
    assert client.get("/api/v1/customers/").status_code == 200
    response = client.post("/api/v1/customers/", {"name": "无CSRF"}, format="json")
    assert_error(response, 403)
    assert not Customer.objects.filter(name="无CSRF").exists()


# --- token command -------------------------------------------------------------------------------
def test_token_command_prints_a_working_key_and_stores_only_its_hash(people):
    out, err = io.StringIO(), io.StringIO()
    call_command("token", "rep", "--name", "ERP", "--read-only", "--expires-days", "30", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert len(key) == 40 and "\n" not in key
    token = ApiToken.objects.get(user=people["rep"], name="ERP")
    assert token.digest == hash_token(key) and token.read_only
    assert key not in {token.digest, token.prefix} and token.prefix == key[:8]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").json()["username"] == "rep"
    assert_error(client.post("/api/v1/customers/", {"name": "只读"}, format="json"), 403)


def test_token_command_errors(people):
    with pytest.raises(CommandError):
        call_command("token", "nobody", stdout=io.StringIO())
    people["rep"].is_active = False
    people["rep"].save()
    with pytest.raises(CommandError):
        call_command("token", "rep", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("token", "boss", "--expires-days", "0", stdout=io.StringIO())


# --- schema and docs -----------------------------------------------------------------------------
def test_openapi_schema_is_valid_without_warnings(db):
    out = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    for path in ("/api/v1/customers/", "/api/v1/contacts/", "/api/v1/users/", "/api/v1/departments/",
                 "/api/v1/roles/", "/api/v1/custom-fields/", "/api/v1/lookups/", "/api/v1/changes/", "/api/v1/me/"):
        assert path in schema["paths"], path
    owner = schema["components"]["schemas"]["Customer"]["properties"]["owner"]
    assert set(owner["properties"]) == {"id", "username", "name", "url"}
    assert schema["components"]["schemas"]["PatchedCustomerRequest"]["properties"]["owner"]["type"] == "integer"
    assert "password" not in schema["components"]["schemas"]["User"]["properties"]


def test_docs_are_served_locally(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html and "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert client.get("/api/schema/").status_code == 200


def test_browsable_api_pages_render(client, people):
    make_customer(people["admin"])
    client.force_login(people["admin"])
    for url in ("/api/v1/", "/api/v1/customers/", f"/api/v1/customers/{Customer.objects.get().pk}/", "/api/v1/users/",
                "/api/v1/me/", "/api/v1/roles/", "/api/v1/departments/", "/api/v1/changes/", "/api/v1/lookups/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
