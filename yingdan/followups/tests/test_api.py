import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from yingdan.core.models import Attachment
from yingdan.core.tests.api_base import APIViewTestCase, api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_user
from yingdan.followups.models import FollowUp
from yingdan.notifications.models import Notification

from .helpers import followup_type, make_followup


class TestFollowUpAPI(APIViewTestCase):
    model = FollowUp
    basename = "followup"
    module = "followups"
    scope = "own"
    extra_permissions = {"customers": {"actions": ["view"], "scope": "own"}}

    def setup_env(self, env):
        env.customer = make_customer(env.user, name="华为技术")
        env.other_customer = make_customer(env.other, name="中兴通讯")

    def make_visible(self, env):
        return make_followup(env.user, customer=env.customer)

    def make_hidden(self, env):
        return make_followup(env.other, customer=env.other_customer)

    def create_payload(self, env):
        return {"customer": env.customer.pk, "type": followup_type("email").pk,
                "occurred_at": timezone.now().replace(microsecond=0).isoformat(), "content": "发送了方案书"}

    def update_payload(self, env):
        return {"content": "补充：客户要求折扣", "next_plan": "下周回访"}

    def invalid_payloads(self, env):
        base = self.create_payload(env)
        return [
            ({**base, "occurred_at": (timezone.now() + datetime.timedelta(days=7)).isoformat()}, "occurred_at"),
            ({**base, "content": ""}, "content"),
            ({**base, "customer": env.other_customer.pk}, "customer"),
            ({**base, "next_at": (timezone.localdate() - datetime.timedelta(days=3)).isoformat()}, "next_at"),
            ({**base, "type": 999999}, "type"),
        ]

    def assert_stored(self, obj, payload):
        payload = dict(payload)
        if "occurred_at" in payload:
            stored = FollowUp.objects.get(pk=obj.pk).occurred_at
            assert stored == parse_datetime(payload.pop("occurred_at"))
        super().assert_stored(obj, payload)

    def test_comments_and_mentions(self, env):
        mentioned = make_user("lina", ["rep"], env.d1, name="李娜")
        client = api_client(env.user)
        url = reverse("followup-comments", args=[env.visible.pk])
        response = client.post(url, {"body": "@李娜 请协助"}, format="json")
        assert response.status_code == 201, response.data
        assert [m["id"] for m in response.json()["mentions"]] == [mentioned.pk]
        assert Notification.objects.filter(recipient=mentioned, kind="mention").exists()
        assert client.get(url).json()[0]["body"] == "@李娜 请协助"
        assert_error(client.post(url, {"body": ""}, format="json"), 400, field="body")
        assert_error(client.post(reverse("followup-comments", args=[env.hidden.pk]), {"body": "x"}, format="json"), 404)

    def test_attachment_upload(self, env):
        client = api_client(env.user)
        url = reverse("followup-attachments", args=[env.visible.pk])
        response = client.post(url, {"files": [SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")]}, format="multipart")
        assert response.status_code == 201, response.data
        assert response.json()[0]["name"] == "a.pdf"
        bad = client.post(url, {"files": [SimpleUploadedFile("b.pdf", b"MZ\x90\x00")]}, format="multipart")
        assert_error(bad, 400, field="files")
        assert Attachment.objects.count() == 1
        detail = client.get(self.detail_url(env.visible)).json()
        assert [a["name"] for a in detail["attachments"]] == ["a.pdf"]
        listing = client.get(self.list_url(), {"customer": env.customer.pk}).json()
        assert listing["results"][0]["attachments"][0]["name"] == "a.pdf"
        assert_error(client.post(reverse("followup-attachments", args=[env.hidden.pk]),
                                 {"files": [SimpleUploadedFile("c.pdf", b"%PDF-1.4")]}, format="multipart"), 404)

    def test_create_updates_customer_dates(self, env):
        payload = {**self.create_payload(env), "next_at": (timezone.localdate() + datetime.timedelta(days=4)).isoformat()}
        assert api_client(env.user).post(self.list_url(), payload, format="json").status_code == 201
        env.customer.refresh_from_db()
        assert env.customer.next_followup_at == timezone.localdate() + datetime.timedelta(days=4)
