import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from yingdan.core.models import Attachment, Lookup
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.followups.models import FollowUp, FollowUpComment
from yingdan.notifications.models import Notification

from .helpers import followup_type, make_followup

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


class TestFollowUpViews(ViewTestCases.All):
    url_base = "followups:followup"
    module = "followups"
    model = FollowUp

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.customer = factories.make_customer(cls.owner, level=Lookup.objects.get(kind="customer_level", code="B"))

    def make_object(self, owner):
        return make_followup(owner, customer=factories.make_customer(owner))

    def form_data(self):
        return {"customer": self.customer.pk, "type": followup_type("call").pk, "occurred_at": local(timezone.now()),
                "content": "电话沟通了报价"}

    def edit_data(self, obj):
        return {"customer": obj.customer_id, "type": obj.type_id, "occurred_at": local(obj.occurred_at), "content": "改过的内容"}

    def invalid_form_data(self):
        return {"customer": self.customer.pk, "type": followup_type("call").pk,
                "occurred_at": local(timezone.now() + datetime.timedelta(days=30)), "content": ""}

    def test_far_future_message_and_nothing_saved(self):
        self.login(self.owner)
        data = {**self.form_data(), "occurred_at": local(timezone.now() + datetime.timedelta(days=10))}
        response = self.client.post(self.url("add"), data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("occurred_at", response.context["form"].errors)
        self.assertFalse(FollowUp.objects.exists())
        self.customer.refresh_from_db()
        self.assertIsNone(self.customer.last_contact_at)

    def test_create_with_attachments_and_next_date(self):
        self.login(self.owner)
        files = [SimpleUploadedFile("报价单.pdf", PDF, "application/pdf"), SimpleUploadedFile("现场.png", PNG, "image/png")]
        response = self.client.post(self.url("add"), {**self.form_data(), "files": files})
        self.assertEqual(response.status_code, 302)
        f = FollowUp.objects.get()
        self.assertEqual(Attachment.objects.filter(target_id=f.pk).count(), 2)
        self.customer.refresh_from_db()
        self.assertEqual(self.customer.next_followup_at, timezone.localdate(f.occurred_at) + datetime.timedelta(days=15))

    def test_disguised_and_forbidden_files_refused_nothing_saved(self):
        self.login(self.owner)
        for upload in (
            SimpleUploadedFile("合同.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "application/pdf"),  # an .exe renamed
            SimpleUploadedFile("tool.exe", b"MZ\x90\x00", "application/octet-stream"),
            SimpleUploadedFile("空.txt", b"", "text/plain"),
        ):
            files = [SimpleUploadedFile("ok.pdf", PDF, "application/pdf"), upload]
            response = self.client.post(self.url("add"), {**self.form_data(), "files": files})
            self.assertEqual(response.status_code, 400, upload.name)
            self.assertIn("files", response.context["form"].errors)
        self.assertFalse(FollowUp.objects.exists())
        self.assertFalse(Attachment.objects.exists())

    @override_settings(ATTACHMENT_MAX_MB=1)
    def test_too_big_refused(self):
        self.login(self.owner)
        big = SimpleUploadedFile("大文件.pdf", PDF + b"0" * (1024 * 1024 + 1), "application/pdf")
        response = self.client.post(self.url("add"), {**self.form_data(), "files": [big]})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(FollowUp.objects.exists())

    def test_attachment_download_checks_scope(self):
        self.login(self.owner)
        self.client.post(self.url("add"), {**self.form_data(), "files": [SimpleUploadedFile("a.pdf", PDF)]})
        attachment = Attachment.objects.get()
        url = reverse("core:attachment_download", args=[attachment.pk])
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(b"".join(response.streaming_content), PDF)
        self.login(self.outsider)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertNotIn("attachments/", attachment.name)

    def test_rep_cannot_see_other_reps_followup(self):
        theirs = self.make_object(self.outsider)
        self.login(self.owner)
        self.assertEqual(self.client.get(self.url("detail", theirs)).status_code, 404)
        self.assertEqual(self.client.post(reverse("followups:comment_add", args=[theirs.pk]), {"body": "hi"}).status_code, 404)
        self.assertFalse(FollowUpComment.objects.exists())

    def test_comment_mention_from_detail_page(self):
        f = make_followup(self.owner, customer=self.customer)
        self.login(self.admin)
        response = self.client.post(reverse("followups:comment_add", args=[f.pk]), {"body": "@李娜 看一下这个客户"}, HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-testid="comment"')
        self.assertTrue(Notification.objects.filter(recipient=self.outsider, kind="mention").exists())
        self.assertTrue(Notification.objects.filter(recipient=self.owner, kind="followup_comment").exists())


class TestCustomer360(ViewTestCases.Base):
    def setUp(self):
        self.customer = factories.make_customer(self.owner, level=Lookup.objects.get(kind="customer_level", code="A"))

    def test_timeline_is_default_and_shows_followups_and_changes(self):
        f = make_followup(self.owner, customer=self.customer, content="第一次拜访，客户有意向")
        self.login(self.owner)
        response = self.client.get(self.customer.get_absolute_url())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["tab"], "timeline")
        self.assertContains(response, "第一次拜访，客户有意向")
        self.assertContains(response, 'data-testid="quick-followup-form"')
        kinds = [e.kind for e in response.context["timeline"].entries]
        self.assertIn("followup", kinds)
        self.assertIn("created", kinds)
        self.assertContains(response, f.get_absolute_url())

    def test_header_overdue_and_days_since_contact(self):
        make_followup(self.owner, customer=self.customer, occurred_at=timezone.now() - datetime.timedelta(days=10))
        self.login(self.owner)
        response = self.client.get(self.customer.get_absolute_url())
        self.assertEqual(response.context["days_since_contact"], 10)
        self.assertTrue(response.context["followup_overdue"])  # level A: 7 days
        self.assertContains(response, 'data-overdue="1"')

    def test_quick_add_htmx(self):
        self.login(self.owner)
        data = {"customer": self.customer.pk, "type": followup_type("wechat").pk, "occurred_at": local(timezone.now()),
                "content": "微信发了资料"}
        response = self.client.post(reverse("followups:followup_quick_add"), data, HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "微信发了资料")
        self.assertContains(response, 'data-testid="quick-saved"')
        # bad input: message, nothing saved
        bad = {**data, "content": "", "occurred_at": local(timezone.now() + datetime.timedelta(days=5))}
        response = self.client.post(reverse("followups:followup_quick_add"), bad, HTTP_HX_REQUEST="true")
        self.assertContains(response, 'data-error-for="content"')
        self.assertEqual(FollowUp.objects.count(), 1)

    def test_quick_add_on_someone_elses_customer_is_404(self):
        theirs = factories.make_customer(self.outsider)
        self.login(self.owner)
        data = {"customer": theirs.pk, "type": followup_type().pk, "occurred_at": local(timezone.now()), "content": "x"}
        self.assertEqual(self.client.post(reverse("followups:followup_quick_add"), data).status_code, 404)
        self.assertFalse(FollowUp.objects.exists())

    def test_timeline_paging(self):
        base = timezone.now() - datetime.timedelta(days=1)
        for i in range(25):
            make_followup(self.owner, customer=self.customer, occurred_at=base - datetime.timedelta(hours=i), content=f"记录{i}")
        self.login(self.owner)
        response = self.client.get(self.customer.get_absolute_url())
        timeline = response.context["timeline"]
        self.assertEqual(len(timeline.entries), 20)
        self.assertTrue(timeline.more_url)
        more = self.client.get(timeline.more_url, HTTP_HX_REQUEST="true")
        self.assertEqual(more.status_code, 200)
        shown = {e.data["followup"].content for e in timeline.entries if e.kind == "followup"}
        shown |= {e.data["followup"].content for e in more.context["timeline"].entries if e.kind == "followup"}
        self.assertTrue({f"记录{i}" for i in range(25)} <= shown)
        self.login(self.outsider)
        self.assertEqual(self.client.get(timeline.more_url).status_code, 404)

    def test_files_tab(self):
        self.login(self.owner)
        data = {"customer": self.customer.pk, "type": followup_type().pk, "occurred_at": local(timezone.now()),
                "content": "附件", "files": [SimpleUploadedFile("方案.pdf", PDF)]}
        self.client.post(reverse("followups:followup_add"), data)
        response = self.client.get(self.customer.get_absolute_url(), {"tab": "files"})
        self.assertContains(response, "方案.pdf")

    def test_ownership_change_on_timeline(self):
        from yingdan.customers.services import transfer_customers

        transfer_customers(self.admin, [self.customer.pk], self.outsider)
        self.login(self.admin)
        response = self.client.get(self.customer.get_absolute_url())
        self.assertIn("ownership", [e.kind for e in response.context["timeline"].entries])

    def test_customer_page_query_count_is_bounded(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        for _ in range(3):
            f = make_followup(self.owner, customer=self.customer)
        self.login(self.admin)
        with CaptureQueriesContext(connection) as few:
            self.client.get(self.customer.get_absolute_url())
        for _ in range(10):
            f = make_followup(self.owner, customer=self.customer)
        from yingdan.followups import services

        services.add_comment(self.admin, f, "好")
        with CaptureQueriesContext(connection) as many:
            self.client.get(self.customer.get_absolute_url())
        self.assertLessEqual(len(many), len(few) + 2)
        self.assertLessEqual(len(many), 40)


class TestDueList(ViewTestCases.Base):
    def setUp(self):
        today = timezone.localdate()
        self.mine_today = factories.make_customer(self.owner, next_followup_at=today)
        self.mine_overdue = factories.make_customer(self.owner, next_followup_at=today - datetime.timedelta(days=3))
        self.mine_later = factories.make_customer(self.owner, next_followup_at=today + datetime.timedelta(days=3))
        self.theirs_today = factories.make_customer(self.outsider, next_followup_at=today)

    def ids(self, response):
        return {row.pk for row in response.context["page"].object_list}

    def test_rep_sees_own_today_and_overdue(self):
        self.login(self.owner)
        url = reverse("followups:due_list")
        self.assertEqual(self.ids(self.client.get(url)), {self.mine_today.pk})
        self.assertEqual(self.ids(self.client.get(url, {"when": "overdue"})), {self.mine_overdue.pk})
        self.assertNotIn(self.theirs_today.pk, self.ids(self.client.get(url, {"owner": self.outsider.pk})))

    def test_manager_sees_scope_grouped_per_rep(self):
        manager_a = factories.make_user("manager_a", ["manager"], self.region_a, name="周杰")
        self.login(manager_a)
        response = self.client.get(reverse("followups:due_list"))
        self.assertTrue(response.context["is_manager"])
        self.assertEqual(self.ids(response), {self.mine_today.pk})
        panel = self.client.get(reverse("followups:due_list"), {"_groups": "1"}, HTTP_HX_REQUEST="true")
        self.assertContains(panel, 'data-testid="due-group"')
        groups = {g["rep"].pk: (g["today"], g["overdue"]) for g in panel.context["groups"]}
        self.assertEqual(groups, {self.owner.pk: (1, 1)})
        drill = self.client.get(reverse("followups:due_list"), {"owner": self.owner.pk, "when": "overdue"})
        self.assertEqual(self.ids(drill), {self.mine_overdue.pk})
        self.assertEqual(self.client.get(reverse("followups:due_list"), {"sort": "-name", "page": "x"}).status_code, 200)

    def test_per_rep_panel_is_one_grouped_count(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        today = timezone.localdate()
        factories.make_customer(self.owner, next_followup_at=today - datetime.timedelta(days=9))
        manager_a = factories.make_user("manager_a", ["manager"], self.region_a, name="周杰")
        self.login(manager_a)
        with CaptureQueriesContext(connection) as queries:
            panel = self.client.get(reverse("followups:due_list"), {"_groups": "1", "when": "overdue"}, HTTP_HX_REQUEST="true")
        groups = {g["rep"].pk: (g["today"], g["overdue"]) for g in panel.context["groups"]}
        self.assertEqual(groups, {self.owner.pk: (1, 2)})
        # the panel does not build (count, page) the list it sits beside
        on_customers = [q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"]]
        self.assertEqual(len(on_customers), 1, on_customers)
        self.assertIn("GROUP BY", on_customers[0])

    def test_list_count_capped_and_own_count_known(self):
        from unittest import mock

        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        today = timezone.localdate()
        factories.make_customer(self.owner, next_followup_at=today - datetime.timedelta(days=9))
        url = reverse("followups:due_list")
        self.login(self.owner)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(url, {"when": "overdue"})
        self.assertEqual((response.context["count"], response.context["count_capped"]), (2, False))
        self.assertFalse([q for q in queries.captured_queries if "COUNT(*) FROM (SELECT" in q["sql"]])
        # filtered: counted
        response = self.client.get(url, {"when": "overdue", "q": "no such name"})
        self.assertEqual((response.context["count"], len(response.context["page"].object_list)), (0, 0))
        manager_a = factories.make_user("manager_a", ["manager"], self.region_a, name="周杰")
        self.login(manager_a)
        self.assertEqual(self.client.get(url, {"when": "overdue"}).context["count"], 2)
        with mock.patch("yingdan.followups.views.DUE_COUNT_CAP", 1):
            response = self.client.get(url, {"when": "overdue"})
        self.assertEqual((response.context["count"], response.context["count_capped"]), (1, True))
        self.assertContains(response, "1+")
        self.assertEqual(len(response.context["page"].object_list), 2)

    def test_team_list_reads_rep_ids_only(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        manager_a = factories.make_user("manager_a", ["manager"], self.region_a, name="周杰")
        self.login(manager_a)
        with CaptureQueriesContext(connection) as queries:
            response = self.client.get(reverse("followups:due_list"))
        self.assertEqual(self.ids(response), {self.mine_today.pk})
        reps = [q["sql"] for q in queries.captured_queries if 'FROM "org_user" WHERE' in q["sql"] and '"department_id" IN' in q["sql"]]
        self.assertEqual(len(reps), 1, reps)
        self.assertTrue(reps[0].startswith('SELECT "org_user"."id" AS "pk" FROM'), reps[0])

    def test_own_counts(self):
        today = timezone.localdate()
        factories.make_customer(self.owner, next_followup_at=today - datetime.timedelta(days=9))
        self.login(self.owner)
        response = self.client.get(reverse("followups:due_list"))
        self.assertEqual(response.context["counts"], {"today": 1, "overdue": 2})

    def test_noperm_is_403(self):
        self.login(self.noperm)
        self.assertEqual(self.client.get(reverse("followups:due_list")).status_code, 403)


