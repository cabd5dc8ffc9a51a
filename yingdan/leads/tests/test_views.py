from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.leads import services
from yingdan.leads.models import AssignmentRule, Lead

from .helpers import make_lead


class TestLeadViews(ViewTestCases.All):
    url_base = "leads:lead"
    module = "leads"
    model = Lead

    def make_object(self, owner):
        return make_lead(owner)

    def form_data(self):
        return {"name": "陈晓明", "company": "上海启明软件有限公司", "mobile": "138 0013 8000", "email": "CHEN@example.com"}

    def invalid_form_data(self):
        return {"name": "", "mobile": "12345", "email": "not-an-email"}

    def test_new_lead_defaults(self):
        self.login(self.owner)
        self.client.post(self.url("add"), self.form_data())
        lead = Lead.objects.get(name="陈晓明")
        self.assertEqual(lead.owner, self.owner)
        self.assertEqual(lead.department, self.team_a)
        self.assertEqual(lead.status.code, "new")
        self.assertEqual(lead.mobile, "13800138000")
        self.assertEqual(lead.email, "chen@example.com")

    def test_field_level_messages(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "x" * 101, "mobile": "12345", "email": "bad"})
        self.assertEqual(response.status_code, 400)
        errors = response.context["form"].errors
        for name in ("name", "mobile", "email"):
            self.assertIn(name, errors)

    def test_inline_validation_saves_nothing(self):
        self.login(self.owner)
        before = Lead.objects.count()
        response = self.client.post(self.url("add"), {"name": "王", "mobile": "12345", "_validate": "mobile"}, HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-error-for="mobile"')
        self.assertEqual(Lead.objects.count(), before)

    def test_rep_cannot_set_converted_status_or_other_owner(self):
        self.login(self.owner)
        form = self.client.get(self.url("add")).context["form"]
        self.assertTrue(form.fields["owner"].disabled)
        self.assertNotIn("assign_to_department", form.fields)
        converted = Lookup.objects.get(kind="lead_status", code="converted")
        self.assertFalse(form.fields["status"].queryset.filter(pk=converted.pk).exists())
        response = self.client.post(self.url("add"), {"name": "状态测试", "status": converted.pk})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Lead.objects.filter(name="状态测试").exists())

    def test_list_search_by_name_company_and_mobile(self):
        a = make_lead(self.owner, name="王伟", company="华信科技有限公司", mobile="13912345678")
        b = make_lead(self.owner, name="李雷", company="启明软件", mobile="13800001111")
        self.login(self.owner)
        for q, hit, miss in (("王伟", a, b), ("华信", a, b), ("启明", b, a), ("1391234", a, b), ("ww", a, b)):
            content = self.client.get(self.url("list"), {"q": q}).content.decode()
            self.assertIn(hit.get_absolute_url(), content, q)
            self.assertNotIn(miss.get_absolute_url(), content, q)

    def test_list_filters(self):
        mine = make_lead(self.owner)
        other = make_lead(self.owner)
        working = Lookup.objects.get(kind="lead_status", code="working")
        Lead.objects.filter(pk=other.pk).update(status=working)
        self.login(self.admin)
        content = self.client.get(self.url("list"), {"status": working.pk}).content.decode()
        self.assertIn(other.get_absolute_url(), content)
        self.assertNotIn(mine.get_absolute_url(), content)
        content = self.client.get(self.url("list"), {"converted": "no", "in_pool": "no", "department": self.team_a.pk,
                                                     "created_after": "2000-01-01"}).content.decode()
        self.assertIn(mine.get_absolute_url(), content)
        content = self.client.get(self.url("list"), {"converted": "yes"}).content.decode()
        self.assertNotIn(mine.get_absolute_url(), content)
        self.assertEqual(self.client.get(self.url("list"), {"_filters": "1"}).status_code, 200)

    def test_custom_field_filter(self):
        factories.make_custom_field(Lead, "budget", "integer", filterable=True)
        lead = make_lead(self.owner, custom_fields={"budget": 50})
        small = make_lead(self.owner, custom_fields={"budget": 5})
        self.login(self.admin)
        content = self.client.get(self.url("list"), {"cf_budget_min": 10}).content.decode()
        self.assertIn(lead.get_absolute_url(), content)
        self.assertNotIn(small.get_absolute_url(), content)

    def test_detail_has_convert_and_plugin_actions(self):
        lead = make_lead(self.owner)
        self.login(self.owner)
        response = self.client.get(self.url("detail", lead))
        self.assertContains(response, 'data-testid="lead-convert"')

    def test_bulk_edit_transfer_delete(self):
        leads = [make_lead(self.owner) for _ in range(3)]
        ids = [lead.pk for lead in leads]
        working = Lookup.objects.get(kind="lead_status", code="working")
        self.login(self.admin)
        response = self.client.post(reverse("leads:lead_bulk_edit"), {"pk": ids, "status": working.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Lead.objects.filter(pk__in=ids, status=working).count(), 3)
        response = self.client.post(reverse("leads:lead_bulk_transfer"), {"pk": ids, "owner": self.outsider.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Lead.objects.filter(pk__in=ids, owner=self.outsider, department=self.region_b).count(), 3)
        self.assertEqual(Lead.objects.filter(pk__in=ids, previous_owner=self.owner).count(), 3)
        ct = ContentType.objects.get_for_model(Lead)
        self.assertTrue(ObjectChange.objects.filter(content_type=ct, object_id=ids[0], action="update").exists())
        response = self.client.post(reverse("leads:lead_bulk_delete"), {"pk": ids, "_apply": "1"})
        self.assertEqual(Lead.objects.filter(pk__in=ids).count(), 0)

    def test_rep_bulk_transfer_is_refused(self):
        lead = make_lead(self.owner)
        self.login(self.owner)
        response = self.client.post(reverse("leads:lead_bulk_transfer"), {"pk": [lead.pk], "owner": self.outsider.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 403)
        lead.refresh_from_db()
        self.assertEqual(lead.owner, self.owner)

    def test_create_assigned_within_team(self):
        member = factories.make_user("member_t", ["rep"], self.team_a)
        rule = services.save_assignment_rule(factories.system_actor(), AssignmentRule(department=self.team_a, method="round_robin"), members=[member])
        self.login(self.admin)
        form = self.client.get(self.url("add")).context["form"]
        self.assertIn("assign_to_department", form.fields)
        response = self.client.post(self.url("add"), {"name": "分配测试", "assign_to_department": self.team_a.pk})
        self.assertEqual(response.status_code, 302, response.content[:2000])
        lead = Lead.objects.get(name="分配测试")
        self.assertEqual(lead.owner, member)
        rule.refresh_from_db()
        self.assertEqual(rule.last_assigned, member)
        from yingdan.notifications.models import Notification

        self.assertTrue(Notification.objects.filter(recipient=member, kind="lead_assigned").exists())


class TestAssignmentRuleViews(ViewTestCases.Base):
    def test_settings_pages(self):
        self.login(self.admin)
        self.assertEqual(self.client.get(reverse("leads:assignment_list")).status_code, 200)
        self.assertEqual(self.client.get(reverse("leads:assignment_add")).status_code, 200)
        response = self.client.post(reverse("leads:assignment_add"), {
            "department": self.team_a.pk, "method": "least_load", "load_basis": "both", "members": [self.owner.pk],
        })
        self.assertEqual(response.status_code, 302, response.content[:2000])
        rule = AssignmentRule.objects.get(department=self.team_a)
        self.assertEqual(rule.method, "least_load")
        self.assertEqual(list(rule.members.all()), [self.owner])
        content = self.client.get(reverse("leads:assignment_list")).content.decode()
        self.assertIn(rule.get_absolute_url(), content)
        make_lead(self.owner)
        response = self.client.get(rule.get_absolute_url())
        self.assertContains(response, 'data-testid="assignment-loads"')
        self.assertEqual([(r["user"], r["load"]) for r in response.context["member_rows"]], [(self.owner, 1)])
        # A member outside the team is refused with a field message.
        response = self.client.post(reverse("leads:assignment_edit", args=[rule.pk]), {
            "department": self.team_a.pk, "method": "round_robin", "load_basis": "leads", "members": [self.outsider.pk],
        })
        self.assertEqual(response.status_code, 400)
        self.assertIn("members", response.context["form"].errors)
        # One rule per team.
        response = self.client.post(reverse("leads:assignment_add"), {"department": self.team_a.pk, "method": "round_robin", "load_basis": "leads"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.client.post(reverse("leads:assignment_delete", args=[rule.pk])).status_code, 302)
        self.assertFalse(AssignmentRule.objects.exists())

    def test_non_admins_are_refused(self):
        for user in (self.owner, self.manager_b):
            self.login(user)
            self.assertEqual(self.client.get(reverse("leads:assignment_list")).status_code, 403)
            self.assertEqual(self.client.post(reverse("leads:assignment_add"), {"department": self.team_a.pk, "method": "round_robin", "load_basis": "leads"}).status_code, 403)
        self.assertFalse(AssignmentRule.objects.exists())


class TestBulkAssign(ViewTestCases.Base):
    def test_bulk_assign_within_team(self):
        a = factories.make_user("ba_a", ["rep"], self.region_b)
        b = factories.make_user("ba_b", ["rep"], self.region_b)
        services.save_assignment_rule(factories.system_actor(), AssignmentRule(department=self.region_b, method="round_robin"), members=[a, b])
        leads = [make_lead(self.owner) for _ in range(4)]
        self.login(self.admin)
        response = self.client.post(reverse("leads:lead_bulk_assign"), {"pk": [x.pk for x in leads], "department": self.region_b.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        owners = [Lead.objects.get(pk=x.pk).owner for x in leads]
        self.assertEqual(owners, [a, b, a, b])
        # A rep may not.
        lead = make_lead(self.owner)
        self.login(self.owner)
        self.assertEqual(self.client.post(reverse("leads:lead_bulk_assign"), {"pk": [lead.pk], "department": self.region_b.pk, "_apply": "1"}).status_code, 403)
        self.assertEqual(Lead.objects.get(pk=lead.pk).owner, self.owner)
