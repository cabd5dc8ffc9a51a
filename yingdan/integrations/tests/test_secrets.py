"""Credentials at rest: encrypted columns, transparent to services, key rotation, legacy rows."""

import importlib
import io
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.test import override_settings
from django.urls import reverse

from yingdan.core.tests.api_base import api_client

from .. import crypto, services, signing
from ..models import Robot, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

SECRET = "SECdd0b5e1f0c4a9e7b3a1b2"
OLD_KEY = "old-secret-key-" + "x" * 50
NEW_KEY = "new-secret-key-" + "y" * 50


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cur.fetchone()[0]


def write_plain(model, pk, **values):
    """What a row written before encryption looks like."""
    model.objects.filter(pk=pk).update(**{k: models.Value(v, output_field=models.TextField()) for k, v in values.items()})


def make_robot(admin, url, secret=SECRET, vendor="dingtalk"):
    return services.save_robot(admin, Robot(vendor=vendor, name="group", webhook_url=url, secret=secret))


def test_columns_hold_no_plain_credentials(fake, admin):
    url = fake.dingtalk_url(token="tok-plain-access-token", secret=SECRET)
    r = make_robot(admin, url)
    hook = services.save_webhook(admin, Webhook(name="h", url=fake.hook_url("a"), events=["*"]))
    for table, column, pk, plain in [("integrations_robot", "webhook_url", r.pk, url),
                                     ("integrations_robot", "secret", r.pk, SECRET),
                                     ("integrations_webhook", "secret", hook.pk, hook.secret)]:
        stored = raw(table, column, pk)
        assert stored.startswith("fernet:") and plain not in stored
        assert "tok-plain-access-token" not in stored and SECRET[:8] not in stored
    # a fresh random IV each time: the same value never gives the same token
    assert crypto.encrypt(SECRET) != crypto.encrypt(SECRET)
    # services and pages see the plain values
    again = Robot.objects.get(pk=r.pk)
    assert again.webhook_url == url and again.secret == SECRET
    assert Robot.objects.filter(pk=r.pk).values_list("secret", flat=True).get() == SECRET
    assert Webhook.objects.get(pk=hook.pk).secret.startswith("whsec_")
    # the change log never saw them
    from yingdan.core.models import ObjectChange

    logged = json.dumps([list(c) for c in ObjectChange.objects.values_list("changes")], default=str)
    assert SECRET not in logged and "tok-plain-access-token" not in logged


@pytest.mark.parametrize("vendor", ["dingtalk", "feishu"])
def test_signing_still_matches_after_a_round_trip(fake, admin, vendor):
    url = fake.dingtalk_url(secret=SECRET) if vendor == "dingtalk" else fake.feishu_url(secret=SECRET)
    r = make_robot(admin, url, vendor=vendor)
    result = services.test_send(admin, Robot.objects.get(pk=r.pk))
    assert result.ok, result.as_dict()
    # an edit without re-entering the secret or URL keeps them (decrypted, re-encrypted) and still signs
    client_ = api_client(admin)
    resp = client_.patch(reverse("robot-detail", args=[r.pk]), {"name": "renamed"}, format="json")
    assert resp.status_code == 200, resp.content
    assert SECRET not in resp.content.decode() and "fernet:" not in resp.content.decode()
    assert services.test_send(admin, Robot.objects.get(pk=r.pk)).ok


def test_webhook_signature_verifies_with_the_plain_secret(fake, admin):
    hook = services.save_webhook(admin, Webhook(name="h", url=fake.hook_url("a"), events=["*"], secret="s3cret-value-1234"))
    d = services.send_test_event(admin, Webhook.objects.get(pk=hook.pk))
    assert d.status == "success"
    headers, body = fake.state.hooks["a"][0]
    assert signing.verify_webhook_signature("s3cret-value-1234", body, headers["x-yingdan-signature"])


def test_data_migration_encrypts_legacy_rows_and_reverses(fake, admin):
    r = make_robot(admin, fake.dingtalk_url(secret=SECRET))
    hook = services.save_webhook(admin, Webhook(name="h", url=fake.hook_url("a"), events=["*"], secret="legacy-secret"))
    write_plain(Robot, r.pk, webhook_url=fake.dingtalk_url(), secret=SECRET)
    write_plain(Webhook, hook.pk, secret="legacy-secret")
    # legacy rows read as they are
    assert Robot.objects.get(pk=r.pk).secret == SECRET
    mig = importlib.import_module("yingdan.integrations.migrations.0002_encrypt_secrets_at_rest")
    mig.encrypt_rows(apps, None)
    assert raw("integrations_robot", "secret", r.pk).startswith("fernet:")
    assert raw("integrations_robot", "webhook_url", r.pk).startswith("fernet:")
    assert raw("integrations_webhook", "secret", hook.pk).startswith("fernet:")
    assert Webhook.objects.get(pk=hook.pk).secret == "legacy-secret"
    assert services.test_send(admin, Robot.objects.get(pk=r.pk)).ok
    mig.decrypt_rows(apps, None)
    assert raw("integrations_robot", "secret", r.pk) == SECRET
    assert raw("integrations_webhook", "secret", hook.pk) == "legacy-secret"


def test_changed_secret_key_fails_loudly_and_keeps_the_ciphertext(fake, admin):
    with override_settings(SECRET_KEY=OLD_KEY):
        r = make_robot(admin, fake.dingtalk_url(secret=SECRET))
        hook = services.save_webhook(admin, Webhook(name="h", url=fake.hook_url("a"), events=["*"]))
    stored = raw("integrations_robot", "secret", r.pk)
    with override_settings(SECRET_KEY=NEW_KEY):
        robot = Robot.objects.get(pk=r.pk)
        assert isinstance(robot.secret, crypto.UnreadableSecret) and "fernet:" not in robot.secret_masked
        result = services.test_send(admin, robot)
        assert not result.ok and result.config and result.code == "unreadable"
        assert not fake.state.messages  # nothing sent unsigned
        # a save that does not re-enter the secret writes the stored token back unchanged
        robot.name = "renamed"
        robot.save()
        assert raw("integrations_robot", "secret", r.pk) == stored
        services.save_webhook(admin, Webhook.objects.get(pk=hook.pk))  # must not generate a new secret
        d = services.send_test_event(admin, Webhook.objects.get(pk=hook.pk))
        assert d.status == "failed" and d.error == services.UNREADABLE_ERROR and not fake.state.hooks["a"]
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        assert Robot.objects.get(pk=r.pk).secret == SECRET
    with override_settings(SECRET_KEY=OLD_KEY):
        assert services.test_send(admin, Robot.objects.get(pk=r.pk)).ok


def test_rotate_secrets_command(fake, admin, monkeypatch):
    with override_settings(SECRET_KEY=OLD_KEY):
        r = make_robot(admin, fake.dingtalk_url(secret=SECRET))
        hook = services.save_webhook(admin, Webhook(name="h", url=fake.hook_url("a"), events=["*"]))
        hook_secret = hook.secret
    with override_settings(SECRET_KEY=NEW_KEY):
        with pytest.raises(CommandError):
            call_command("rotate_secrets", stdout=io.StringIO(), stderr=io.StringIO())
        out = io.StringIO()
        call_command("rotate_secrets", "--old-key", OLD_KEY, "--dry-run", stdout=out)
        assert "3 values would be re-encrypted" in out.getvalue()
        assert isinstance(Robot.objects.get(pk=r.pk).secret, crypto.UnreadableSecret)
        monkeypatch.setattr("sys.stdin", io.StringIO(OLD_KEY + "\n"))
        out = io.StringIO()
        call_command("rotate_secrets", "--old-key", "-", stdout=out)
        assert "3 values re-encrypted" in out.getvalue()
        robot = Robot.objects.get(pk=r.pk)
        assert robot.secret == SECRET and Webhook.objects.get(pk=hook.pk).secret == hook_secret
        assert services.test_send(admin, robot).ok
        d = services.send_test_event(admin, Webhook.objects.get(pk=hook.pk))
        assert d.status == WebhookDelivery.Status.SUCCESS
    with override_settings(SECRET_KEY=OLD_KEY):
        assert isinstance(Robot.objects.get(pk=r.pk).secret, crypto.UnreadableSecret)  # the old key no longer opens it


def test_pages_show_masked_values_only(client, fake, admin):
    r = make_robot(admin, fake.dingtalk_url(token="tok-visible-nowhere", secret=SECRET))
    client.force_login(admin)
    for name in ("integrations:robot_detail", "integrations:robot_edit"):
        html = client.get(reverse(name, args=[r.pk])).content.decode()
        assert SECRET not in html and "tok-visible-nowhere" not in html and "fernet:" not in html
