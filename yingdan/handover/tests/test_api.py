import pytest
from django.urls import reverse

from yingdan.core.tests.api_base import api_client, assert_error
from yingdan.customers.models import Customer
from yingdan.handover.models import HandoverRecord
from yingdan.org.models import User

from .helpers import build_env

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(db):
    return build_env(customers=4, leads=2)


def url(user):
    return reverse("user-handover", args=[user.pk])


def test_dry_run_answers_the_preview_and_changes_nothing(env):
    response = api_client(env.admin).post(url(env.leaving), {"mode": "split", "successors": [env.b.pk, env.c.pk], "dry_run": True}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is True and body["total"] == 6 and body["successors"] == [env.b.pk, env.c.pk]
    assert body["kinds"]["customers"]["successors"] == {str(env.b.pk): 2, str(env.c.pk): 2}
    assert body["kinds"]["leads"]["total"] == 2
    assert not HandoverRecord.objects.exists()
    assert User.objects.get(pk=env.leaving.pk).is_active
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", flat=True)) == {env.leaving.pk}


def test_handover_returns_the_record(env):
    response = api_client(env.admin).post(url(env.leaving), {"mode": "one", "successors": [env.c.pk], "reason": "离职"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    record = HandoverRecord.objects.get(pk=body["id"])
    assert body["mode"] == "one" and body["total"] == 6 and body["from_user"]["id"] == env.leaving.pk
    assert [s["id"] for s in body["successors"]] == [env.c.pk]
    assert body["counts"]["customers"]["successors"] == {str(env.c.pk): 4}
    assert record.reason == "离职"
    assert not User.objects.get(pk=env.leaving.pk).is_active
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", flat=True)) == {env.c.pk}
    # and it is listed under /api/v1/handovers/
    listed = api_client(env.admin).get(reverse("handoverrecord-list")).json()["results"]
    assert [r["id"] for r in listed] == [record.pk]


@pytest.mark.parametrize("payload,field", [
    ({"mode": "one", "successors": []}, "successors"),
    ({"mode": "bogus"}, "mode"),
    ({"mode": "split", "successors": [1]}, "successors"),
    ({"mode": "one", "successors": ["x"]}, "successors"),
])
def test_invalid_body_is_400(env, payload, field):
    assert_error(api_client(env.admin).post(url(env.leaving), payload, format="json"), 400, field=field)
    assert User.objects.get(pk=env.leaving.pk).is_active


def test_inactive_or_self_successor_is_400(env):
    client = api_client(env.admin)
    assert_error(client.post(url(env.leaving), {"mode": "one", "successors": [env.inactive.pk]}, format="json"), 400, field="successors")
    assert_error(client.post(url(env.leaving), {"mode": "one", "successors": [env.leaving.pk]}, format="json"), 400, field="successors")
    assert not HandoverRecord.objects.exists()
    assert User.objects.get(pk=env.leaving.pk).is_active


def test_refused_user_is_403(env):
    assert_error(api_client(env.viewer).post(url(env.leaving), {"mode": "one", "successors": [env.b.pk]}, format="json"), 403)
    assert_error(api_client(env.viewer).post(url(env.leaving), {"mode": "one", "successors": [env.b.pk], "dry_run": True}, format="json"), 403)
    assert_error(api_client().post(url(env.leaving), {"mode": "one", "successors": [env.b.pk]}, format="json"), 401)
    assert User.objects.get(pk=env.leaving.pk).is_active


def test_users_edit_role_may_hand_over(env):
    response = api_client(env.hr).post(url(env.leaving), {"mode": "one", "successors": [env.b.pk]}, format="json")
    assert response.status_code == 201, response.json()


def test_read_only_token_may_only_dry_run(env):
    client = api_client(env.admin, read_only=True)
    assert client.post(url(env.leaving), {"mode": "one", "successors": [env.b.pk], "dry_run": True}, format="json").status_code == 200
    assert_error(client.post(url(env.leaving), {"mode": "one", "successors": [env.b.pk]}, format="json"), 403)
    assert User.objects.get(pk=env.leaving.pk).is_active


def test_documented_in_openapi(env):
    client = api_client(env.admin)
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    op = schema["paths"]["/api/v1/users/{id}/handover/"]["post"]
    assert set(op["responses"]) >= {"200", "201"}
    assert "/api/v1/notifications/read-all/" in schema["paths"]
    assert "/api/v1/notifications/unread-count/" in schema["paths"]
