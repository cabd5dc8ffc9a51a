"""API endpoints added by the coverage audit: webhook ping (the settings page's ping, same service)."""

import pytest
from django.urls import reverse

from yingdan.core.tests.api_base import api_client, assert_error

from .. import services
from ..models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def test_ping_sends_now_and_returns_the_delivery(fake, admin, rep):
    hook = services.save_webhook(admin, Webhook(name="ping me", url=fake.hook_url("p"), events=["customers.*"], secret="s3cret-value-1234"))
    response = api_client(admin).post(reverse("webhook-ping", args=[hook.pk]))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["event"] == "ping" and body["status"] == "success" and body["http_status"] == 200
    assert len(fake.state.hooks["p"]) == 1
    assert WebhookDelivery.objects.get(pk=body["id"]).requested_by_id == admin.pk
    # A user without the settings module: 403, nothing sent.
    assert_error(api_client(rep).post(reverse("webhook-ping", args=[hook.pk])), 403)
    assert_error(api_client(admin).post(reverse("webhook-ping", args=[10**9])), 404)
    assert len(fake.state.hooks["p"]) == 1


def test_ping_to_a_dead_endpoint_reports_the_failure(fake, admin):
    hook = services.save_webhook(admin, Webhook(name="dead", url="http://127.0.0.1:9/none", events=["*"], secret="s3cret-value-1234"))
    response = api_client(admin).post(reverse("webhook-ping", args=[hook.pk]))
    assert response.status_code == 200
    assert response.json()["status"] != "success" and response.json()["error"]
