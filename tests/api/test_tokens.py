import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from yingdan.core.tests.api_base import assert_error
from yingdan.core.tests.factories import PASSWORD, make_user
from yingdan.org.models import ApiToken, hash_token

pytestmark = pytest.mark.django_db


def token_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def rep(client):
    user = make_user("tok_rep", ["rep"])
    assert client.login(username=user.username, password=PASSWORD)
    return user


def test_created_key_shown_once_and_works(client, rep):
    response = client.post(reverse("org:api_tokens"), {"name": "ERP"})
    assert response.status_code == 200
    key = response.context["new_key"]
    token = ApiToken.objects.get(user=rep)
    assert token.digest == hash_token(key) and key not in token.digest  # only the hash is stored
    assert key.encode() in response.content
    again = client.get(reverse("org:api_tokens"))
    assert key.encode() not in again.content and token.prefix.encode() in again.content
    assert token_client(key).get("/api/v1/customers/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_form_errors_create_nothing(client, rep):
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert client.post(reverse("org:api_tokens"), {"name": "x", "expires_on": past}).status_code == 400
    assert client.post(reverse("org:api_tokens"), {"name": ""}).status_code == 400
    assert not ApiToken.objects.exists()


def test_expiry_read_only_and_revoke(client, rep):
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    key = client.post(reverse("org:api_tokens"), {"name": "ro", "expires_on": future, "read_only": "on"}).context["new_key"]
    token = ApiToken.objects.get(user=rep)
    assert token.read_only and token.expires_at
    api = token_client(key)
    assert api.get("/api/v1/customers/").status_code == 200
    assert_error(api.post("/api/v1/customers/", {"name": "只读写入"}, format="json"), 403)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert_error(api.get("/api/v1/customers/"), 401)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert api.get("/api/v1/customers/").status_code == 200
    assert client.post(reverse("org:api_token_revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert_error(api.get("/api/v1/customers/"), 401)


def test_cannot_revoke_someone_elses_token(client, rep):
    other = make_user("tok_other", ["rep"])
    token, _key = ApiToken.issue(other, name="x")
    assert client.post(reverse("org:api_token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
