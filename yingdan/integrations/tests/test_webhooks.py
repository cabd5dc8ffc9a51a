import json
import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from yingdan.core.tests.api_base import api_client
from yingdan.core.tests.factories import make_customer
from yingdan.notifications.models import Notification

from .. import services, signing
from ..models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


def make_hook(admin, url, events=("customers.*",), secret="s3cret-value-1234"):
    return services.save_webhook(admin, Webhook(name="CRM sync", url=url, events=list(events), secret=secret))


def test_event_delivered_signed_and_verifiable(fake, admin, django_capture_on_commit_callbacks):
    hook = make_hook(admin, fake.hook_url("a"))
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(admin, name="华为技术")
    received = fake.state.hooks["a"]
    assert len(received) == 1
    headers, body = received[0]
    assert headers["x-yingdan-event"] == "customers.customer.create"
    assert signing.verify_webhook_signature(hook.secret, body, headers["x-yingdan-signature"])
    assert not signing.verify_webhook_signature("wrong", body, headers["x-yingdan-signature"])
    data = json.loads(body)
    assert data["id"] == customer.pk and data["event"] == "customers.customer.create"
    d = WebhookDelivery.objects.get()
    assert str(d.uuid) == headers["x-yingdan-delivery"]
    assert d.status == "success" and d.http_status == 200 and d.response_ms is not None and d.attempt == 1


def test_not_subscribed_and_inactive_get_nothing(fake, admin, django_capture_on_commit_callbacks):
    make_hook(admin, fake.hook_url("b"), events=["leads.*"])
    off = make_hook(admin, fake.hook_url("c"))
    off.is_active = False
    services.save_webhook(admin, off)
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(admin, name="客户甲")
    assert not fake.state.hooks["b"] and not fake.state.hooks["c"]
    assert not WebhookDelivery.objects.exists()


def test_patterns():
    assert services.matches(["customers.*"], "customers.customer.update")
    assert services.matches(["*"], "leads.lead.create")
    assert services.matches(["customers.customer.create"], "customers.customer.create")
    assert not services.matches(["customers.customer.create"], "customers.customer.update")


def test_retry_schedule_then_final_failure(fake, admin):
    hook = make_hook(admin, fake.hook_url("fail", fail=500))
    ids = services.create_deliveries([hook.pk], "customers.customer.create", "ev1", {"event": "x"})
    t0 = timezone.now()
    services.deliver_batch(ids)
    d = WebhookDelivery.objects.get()
    assert d.status == "retrying" and d.http_status == 500 and d.attempt == 1
    expected = [60, 300, 1800, 7200, 43200]
    now = t0
    for i, delay in enumerate(expected):
        assert abs((d.next_retry_at - now).total_seconds() - delay) < 5, (i, d.next_retry_at - now)
        # not due yet: nothing is sent
        assert services.process_due_webhooks(now=now + timedelta(seconds=delay - 10)) == 0
        now = now + timedelta(seconds=delay + 1)
        services.process_due_webhooks(now=now)
        d.refresh_from_db()
        assert d.attempt == i + 2
    assert d.status == "failed" and d.next_retry_at is None
    assert len(fake.state.hooks["fail"]) == 6


@override_settings(WEBHOOK_AUTO_DISABLE_AFTER=3)
def test_auto_disable_notifies_admins(fake, admin):
    hook = make_hook(admin, fake.hook_url("down", fail=503))
    for i in range(3):
        services.deliver_batch(services.create_deliveries([hook.pk], "customers.customer.update", f"e{i}", {}))
    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_reason and hook.consecutive_failures == 3
    assert Notification.objects.filter(recipient=admin, kind=services.NOTIFY_WEBHOOK_DISABLED).count() == 1
    # no more deliveries are created for a disabled webhook
    assert services.active_subscriptions() == []
    # re-enabling resets the counter
    hook.is_active = True
    services.save_webhook(admin, hook)
    hook.refresh_from_db()
    assert hook.consecutive_failures == 0 and hook.disabled_reason == ""


def test_success_resets_consecutive_failures(fake, admin):
    hook = make_hook(admin, fake.hook_url("flaky", fail=500))
    services.deliver_batch(services.create_deliveries([hook.pk], "x.y.z", "e1", {}))
    assert Webhook.objects.get(pk=hook.pk).consecutive_failures == 1
    fake.state.hook_fail.pop("flaky")
    services.deliver_batch(services.create_deliveries([hook.pk], "x.y.z", "e2", {}))
    assert Webhook.objects.get(pk=hook.pk).consecutive_failures == 0


def test_hanging_endpoint_times_out(fake, admin, monkeypatch):
    import httpx

    monkeypatch.setattr(services, "_client", httpx.Client(timeout=0.5))
    hook = make_hook(admin, fake.hook_url("slow", hang=3))
    started = time.monotonic()
    services.deliver_batch(services.create_deliveries([hook.pk], "x.y.z", "e1", {}))
    assert time.monotonic() - started < 2.5
    d = WebhookDelivery.objects.get()
    assert d.status == "retrying" and d.error == "timeout" and d.next_retry_at


def test_exactly_once_after_crash(fake, admin, monkeypatch):
    hook = make_hook(admin, fake.hook_url("once"))
    ids = []
    for i in range(10):
        ids += services.create_deliveries([hook.pk], "customers.customer.create", f"ev{i}", {"n": i})
    # a re-dispatch of the same events creates no second row
    assert services.create_deliveries([hook.pk], "customers.customer.create", "ev3", {"n": 3}) == []
    real = services.send_delivery
    calls = {"n": 0}

    def crashing(pk, **kw):
        calls["n"] += 1
        if calls["n"] == 5:
            raise SystemExit("worker killed")
        return real(pk, **kw)

    monkeypatch.setattr(services, "send_delivery", crashing)
    with pytest.raises(SystemExit):
        services.deliver_batch(ids)
    monkeypatch.setattr(services, "send_delivery", real)
    assert len(fake.state.hooks["once"]) == 4
    # the job restarts with the same batch, and the sweep also finds the row nobody sent
    services.deliver_batch(ids)
    services.process_due_webhooks(now=timezone.now() + timedelta(minutes=5))
    bodies = [json.loads(b)["n"] for _h, b in fake.state.hooks["once"]]
    assert sorted(bodies) == list(range(10))
    assert WebhookDelivery.objects.filter(status="success").count() == 10


def test_manual_redelivery(fake, admin, django_capture_on_commit_callbacks):
    hook = make_hook(admin, fake.hook_url("re"))
    ids = services.create_deliveries([hook.pk], "customers.customer.create", "ev1", {"a": 1})
    services.deliver_batch(ids)
    first = WebhookDelivery.objects.get()
    client = api_client(admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("webhookdelivery-redeliver", args=[first.pk]))
    assert r.status_code == 202, r.content
    assert len(fake.state.hooks["re"]) == 2
    h1, h2 = fake.state.hooks["re"][0][0], fake.state.hooks["re"][1][0]
    assert h1["x-yingdan-delivery"] != h2["x-yingdan-delivery"]
    new = WebhookDelivery.objects.get(redelivery_of=first)
    assert new.status == "success" and new.event_id == first.event_id


def test_api_secrets_masked_and_permissions(fake, admin, rep):
    client = api_client(admin)
    r = client.post(reverse("webhook-list"), {"name": "n", "url": fake.hook_url("api"), "events": ["customers.*"]}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    hook = Webhook.objects.get(pk=body["id"])
    assert body["new_secret"] == hook.secret and hook.secret.startswith("whsec_")
    assert "secret" not in body and body["secret_masked"] != hook.secret
    r = client.get(reverse("webhook-detail", args=[hook.pk]))
    assert hook.secret not in json.dumps(r.json()) and "new_secret" not in r.json()
    # update without the secret keeps it
    r = client.patch(reverse("webhook-detail", args=[hook.pk]), {"name": "renamed"}, format="json")
    assert r.status_code == 200
    assert Webhook.objects.get(pk=hook.pk).secret == hook.secret
    # bad URL / bad events refused
    assert client.post(reverse("webhook-list"), {"name": "n", "url": "not a url", "events": ["*"]}, format="json").status_code == 400
    assert client.post(reverse("webhook-list"), {"name": "n", "url": fake.hook_url("x"), "events": ["bad pattern!"]}, format="json").status_code == 400
    services.deliver_batch(services.create_deliveries([hook.pk], "x.y.z", "e1", {}))
    r = client.get(reverse("webhook-deliveries", args=[hook.pk]))
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "success"
    # a user without the settings module is refused
    other = api_client(rep)
    assert other.get(reverse("webhook-list")).status_code == 403
    assert other.post(reverse("webhookdelivery-redeliver", args=[WebhookDelivery.objects.first().pk])).status_code == 403


def test_pages(client, fake, admin, rep):
    hook = make_hook(admin, fake.hook_url("ui"))
    services.deliver_batch(services.create_deliveries([hook.pk], "x.y.z", "e1", {}))
    client.force_login(admin)
    assert client.get(reverse("integrations:webhook_list")).status_code == 200
    r = client.get(reverse("integrations:webhook_detail", args=[hook.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    assert hook.secret not in html and 'data-status="success"' in html
    html = client.get(reverse("integrations:webhook_add")).content.decode()
    assert 'name="events"' in html and 'name="url"' in html
    r = client.post(reverse("integrations:webhook_add"), {"name": "w2", "url": "nope", "events": "*"})
    assert r.status_code == 400 and Webhook.objects.count() == 1
    r = client.post(reverse("integrations:webhook_add"), {"name": "w2", "url": fake.hook_url("w2"), "events": "customers.*, leads.*"})
    assert r.status_code == 302
    w2 = Webhook.objects.get(name="w2")
    assert w2.events == ["customers.*", "leads.*"] and w2.secret
    r = client.post(reverse("integrations:webhook_edit", args=[w2.pk]), {"name": "w2b", "url": w2.url, "events": "*", "secret": ""})
    assert r.status_code == 302 and Webhook.objects.get(pk=w2.pk).secret == w2.secret
    r = client.post(reverse("integrations:webhook_ping", args=[w2.pk]))
    assert r.status_code == 302 and fake.state.hooks["w2"]
    client.force_login(rep)
    assert client.get(reverse("integrations:webhook_list")).status_code == 403
    assert client.get(reverse("integrations:webhook_detail", args=[hook.pk])).status_code == 403


def test_two_senders_of_one_row_send_it_once(fake, admin):
    """The minute sweep and a still-running job both holding the same pending row: only one lease succeeds."""
    hook = make_hook(admin, fake.hook_url("race"))
    [pk] = services.create_deliveries([hook.pk], "customers.customer.create", "race-1", {"n": 1})
    first = WebhookDelivery.objects.select_related("webhook").get(pk=pk)
    second = WebhookDelivery.objects.select_related("webhook").get(pk=pk)  # read before the first one sent
    services.send_delivery(first)
    services.send_delivery(second)
    assert len(fake.state.hooks["race"]) == 1
    assert WebhookDelivery.objects.get(pk=pk).status == WebhookDelivery.Status.SUCCESS
