import json
import time

import pytest
from django.urls import reverse

from yingdan.core.tests.api_base import api_client

from .. import services, signing
from ..models import Robot, RobotMessage

pytestmark = pytest.mark.django_db

SECRET = "SECdd0b5e1f0c4a9e7b3a1b2"


def robot(admin, vendor, url, secret="", keyword="", kinds=()):
    return services.save_robot(admin, Robot(vendor=vendor, name=f"{vendor} group", webhook_url=url, secret=secret,
                                            keyword=keyword, kinds=list(kinds)))


def test_signatures_match_vendor_examples():
    # DingTalk: base64(HMAC(secret, "ts\nsecret")), URL-encoded
    import base64
    import hashlib
    import hmac
    import urllib.parse

    ts = 1700000000000
    raw = base64.b64encode(hmac.new(b"abc", f"{ts}\nabc".encode(), hashlib.sha256).digest()).decode()
    assert signing.dingtalk_sign("abc", ts) == urllib.parse.quote_plus(raw)
    # Feishu: key = "ts\nsecret", empty message
    raw = base64.b64encode(hmac.new(f"{1700000000}\nabc".encode(), b"", hashlib.sha256).digest()).decode()
    assert signing.feishu_sign("abc", 1700000000) == raw


@pytest.mark.parametrize("vendor", ["dingtalk", "feishu", "wecom"])
def test_test_send_ok(fake, admin, vendor):
    url = {"dingtalk": fake.dingtalk_url(secret=SECRET), "feishu": fake.feishu_url(secret=SECRET), "wecom": fake.wecom_url()}[vendor]
    r = robot(admin, vendor, url, secret=SECRET if vendor != "wecom" else "")
    result = services.test_send(admin, r)
    assert result.ok, result.as_dict()
    key = {"dingtalk": "dingtalk:tok", "feishu": "feishu:hook1", "wecom": "wecom:k1"}[vendor]
    assert len(fake.state.messages[key]) == 1
    r.refresh_from_db()
    assert r.last_sent_at and not r.last_error_code


@pytest.mark.parametrize("vendor,code", [("dingtalk", "310000"), ("feishu", "19021")])
def test_wrong_secret_surfaces_vendor_error(fake, admin, vendor, code):
    url = fake.dingtalk_url(secret=SECRET) if vendor == "dingtalk" else fake.feishu_url(secret=SECRET)
    r = robot(admin, vendor, url, secret="SECwrong-secret-0000")
    resp = api_client(admin).post(reverse("robot-test", args=[r.pk]))
    assert resp.status_code == 200
    body = resp.json()
    assert body["ok"] is False and body["code"] == code and body["config_error"] is True and not body["retry"]
    r.refresh_from_db()
    assert r.last_error_code == code and r.last_error
    assert not fake.state.messages


def test_keyword_error_is_not_retried_and_keyword_prefix_passes(fake, admin):
    url = fake.feishu_url(keyword="赢单")
    r = robot(admin, "feishu", url)
    msg = services.enqueue_robot_message(r, "逾期提醒", "3 条跟进已逾期")
    services.send_robot_queue(r.pk)
    msg.refresh_from_db()
    assert msg.status == "config_error" and msg.error_code == "19024" and msg.attempts == 1
    services.process_due_robots()
    msg.refresh_from_db()
    assert msg.attempts == 1  # never retried blindly
    r.keyword = "赢单"
    services.save_robot(admin, r)
    assert services.test_send(admin, r).ok


def test_wecom_wrong_key(fake, admin):
    fake.wecom_url("good")
    r = robot(admin, "wecom", f"{fake.base}/cgi-bin/webhook/send?key=bad")
    result = services.test_send(admin, r)
    assert not result.ok and result.code == "93000" and result.config


def test_dingtalk_pacing_queues_never_drops(fake, admin, django_capture_on_commit_callbacks):
    r = robot(admin, "dingtalk", fake.dingtalk_url(secret=SECRET), secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(25):
            services.enqueue_robot_message(r, f"提醒 {i}", "正文", mentions=["13800000000"] if i == 0 else [])
    assert len(fake.state.messages["dingtalk:tok"]) == 20
    assert fake.state.limited == 0  # we never hit the vendor's limit ourselves
    assert RobotMessage.objects.filter(status="pending").count() == 5
    wait = services.pace_delay(r)
    assert 50 < wait <= 61
    first = fake.state.messages["dingtalk:tok"][0]
    assert first["at"]["atMobiles"] == ["13800000000"] and "@13800000000" in first["markdown"]["text"]


def test_feishu_pacing_five_per_second(fake, admin):
    r = robot(admin, "feishu", fake.feishu_url(secret=SECRET), secret=SECRET)
    for i in range(12):
        RobotMessage.objects.create(robot=r, title=f"m{i}")
    started = time.monotonic()
    services.send_robot_queue(r.pk)
    took = time.monotonic() - started
    assert took >= 1.9  # 12 messages at 5/s need two pauses
    assert len(fake.state.messages["feishu:hook1"]) == 12 and fake.state.limited == 0
    assert RobotMessage.objects.filter(status="sent").count() == 12


def test_vendor_rate_limit_code_retries_later(fake, admin):
    r = robot(admin, "dingtalk", fake.dingtalk_url())
    fake.state.sent["dingtalk:tok"] = [time.time()] * 20  # someone else used the robot's quota
    msg = services.enqueue_robot_message(r, "t", "x")
    wait = services.send_robot_queue(r.pk)
    msg.refresh_from_db()
    assert msg.status == "retrying" and msg.error_code == "130101" and wait >= 590


def test_notify_reaches_subscribed_robot(fake, admin, rep, django_capture_on_commit_callbacks):
    from yingdan.notifications.services import notify

    r = robot(admin, "wecom", fake.wecom_url(), kinds=["system"])
    with django_capture_on_commit_callbacks(execute=True):
        notify([rep], "system", "维护通知", body="今晚 22:00 升级", dedupe_key="maint-1")
        notify([rep], "system", "维护通知", body="今晚 22:00 升级", dedupe_key="maint-1")
    msgs = fake.state.messages["wecom:k1"]
    assert len(msgs) == 1 and "维护通知" in json.dumps(msgs[0], ensure_ascii=False)
    assert RobotMessage.objects.filter(robot=r).count() == 1


def test_api_url_validation_masking_permissions(fake, admin, rep):
    client = api_client(admin)
    r = client.post(reverse("robot-list"), {"vendor": "dingtalk", "name": "x", "webhook_url": "not a url"}, format="json")
    assert r.status_code == 400 and not Robot.objects.exists()
    url = fake.dingtalk_url(token="tok-secret-token", secret=SECRET)
    r = client.post(reverse("robot-list"), {"vendor": "dingtalk", "name": "x", "webhook_url": url, "secret": SECRET}, format="json")
    assert r.status_code == 201, r.content
    text = json.dumps(r.json())
    assert SECRET not in text and "tok-secret-token" not in text and r.json()["secret_masked"] == "SEC…a1b2"
    pk = r.json()["id"]
    r = client.patch(reverse("robot-detail", args=[pk]), {"name": "renamed", "secret": ""}, format="json")
    assert r.status_code == 200
    obj = Robot.objects.get(pk=pk)
    assert obj.secret == SECRET and obj.webhook_url == url
    r = client.post(reverse("robot-list"), {"vendor": "dingtalk", "name": "x", "webhook_url": url, "kinds": ["nope"]}, format="json")
    assert r.status_code == 400
    other = api_client(rep)
    assert other.get(reverse("robot-list")).status_code == 403
    assert other.post(reverse("robot-test", args=[pk])).status_code == 403


def test_pages_mask_and_test_send(client, fake, admin, rep):
    url = fake.dingtalk_url(token="tok-secret-token", secret=SECRET)
    client.force_login(admin)
    html = client.get(reverse("integrations:robot_add")).content.decode()
    assert 'name="vendor"' in html and 'name="secret"' in html and 'name="kinds"' in html
    r = client.post(reverse("integrations:robot_add"), {"vendor": "dingtalk", "name": "销售群", "webhook_url": "ftp:/x y", "secret": SECRET})
    assert r.status_code == 400 and not Robot.objects.exists()
    r = client.post(reverse("integrations:robot_add"), {"vendor": "dingtalk", "name": "销售群", "webhook_url": url, "secret": "SECwrong-000000"})
    assert r.status_code == 302
    obj = Robot.objects.get()
    r = client.post(reverse("integrations:robot_edit", args=[obj.pk]), {"vendor": "dingtalk", "name": "销售群", "webhook_url": "", "secret": ""})
    assert r.status_code == 302
    obj.refresh_from_db()
    assert obj.secret == "SECwrong-000000" and obj.webhook_url == url
    for page in (reverse("integrations:robot_list"), obj.get_absolute_url(), reverse("integrations:robot_edit", args=[obj.pk])):
        html = client.get(page).content.decode()
        assert "SECwrong-000000" not in html and "tok-secret-token" not in html, page
    client.post(reverse("integrations:robot_test", args=[obj.pk]))
    html = client.get(obj.get_absolute_url()).content.decode()
    assert 'data-code="310000"' in html
    client.force_login(rep)
    assert client.get(reverse("integrations:robot_list")).status_code == 403
    assert client.post(reverse("integrations:robot_test", args=[obj.pk])).status_code == 403
