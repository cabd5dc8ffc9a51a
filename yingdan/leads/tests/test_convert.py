from unittest import mock

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests import factories
from yingdan.customers.models import Contact, Customer
from yingdan.duplicates.services import Match
from yingdan.followups.models import FollowUp
from yingdan.leads import services
from yingdan.leads.models import Lead

from .helpers import make_lead


class ConvertBase(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.team = factories.make_department("华东一组")
        cls.other_team = factories.make_department("华南一组")
        cls.rep = factories.make_user("rep_c", ["rep"], cls.team, name="张伟")
        cls.other_rep = factories.make_user("rep_o", ["rep"], cls.other_team, name="李娜")
        cls.manager = factories.make_user("mgr_c", ["manager"], cls.team, name="王芳")
        cls.finance = factories.make_user("fin_c", ["finance"], cls.team, name="刘洋")
        cls.fu_type = Lookup.objects.get_or_create(kind="followup_type", name="电话(测试)")[0]

    def followup(self, lead, **kw):
        fu = FollowUp(lead=lead, owner=lead.owner, department=lead.department, type=self.fu_type,
                      occurred_at=timezone.now(), content="首次电话沟通", **kw)
        fu.save()
        return fu


class TestConvertService(ConvertBase):
    def test_new_customer_and_contact(self):
        lead = make_lead(self.rep, name="陈晓明", company="上海启明软件有限公司", mobile="13800138000", title="CTO",
                         email="chen@example.com", city="上海")
        Lead.objects.filter(pk=lead.pk).update(last_contact_at=timezone.now())
        fu = self.followup(lead)
        customer, contact = services.convert_lead(self.rep, lead)
        self.assertEqual(customer.name, "上海启明软件有限公司")
        self.assertEqual(customer.owner, self.rep)
        self.assertEqual(customer.city, "上海")
        self.assertIsNotNone(customer.last_contact_at)
        self.assertEqual((contact.customer, contact.name, contact.mobile, contact.title, contact.email, contact.is_primary),
                         (customer, "陈晓明", "13800138000", "CTO", "chen@example.com", True))
        lead.refresh_from_db()
        self.assertEqual(lead.status.code, "converted")
        self.assertEqual((lead.converted_customer, lead.converted_contact), (customer, contact))
        self.assertIsNotNone(lead.converted_at)
        fu.refresh_from_db()
        self.assertEqual((fu.customer, fu.lead), (customer, lead))
        ct = ContentType.objects.get_for_model(Lead)
        change = ObjectChange.objects.filter(content_type=ct, object_id=lead.pk, action="update").latest("id")
        self.assertIn("converted_customer", change.changes)
        self.assertTrue(ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(Customer),
                                                    object_id=customer.pk, action="create").exists())

    def test_attach_to_existing_customer(self):
        mine = factories.make_customer(self.rep, name="华信科技有限公司")
        factories.make_contact(mine, name="老联系人", is_primary=True)
        lead = make_lead(self.rep, name="周杰", company="华信科技")
        customer, contact = services.convert_lead(self.rep, lead, customer=mine)
        self.assertEqual(customer, mine)
        self.assertEqual(Customer.objects.count(), 1)
        self.assertEqual(contact.customer, mine)
        self.assertFalse(contact.is_primary)

    def test_twice_is_refused(self):
        lead = make_lead(self.rep, company="一次性公司")
        services.convert_lead(self.rep, lead)
        with self.assertRaises(ValidationError) as caught:
            services.convert_lead(self.rep, lead)
        self.assertEqual(caught.exception.code, "already_converted")
        self.assertEqual(Customer.objects.count(), 1)
        self.assertEqual(Contact.objects.count(), 1)

    def test_out_of_scope_customer_is_refused(self):
        theirs = factories.make_customer(self.other_rep, name="别人的客户")
        lead = make_lead(self.rep, company="别人的客户")
        with self.assertRaises(ValidationError) as caught:
            services.convert_lead(self.rep, lead, customer=theirs)
        self.assertIn("customer", caught.exception.message_dict)
        lead.refresh_from_db()
        self.assertIsNone(lead.converted_at)
        self.assertEqual(Contact.objects.count(), 0)

    def test_invalid_values_roll_back_everything(self):
        lead = make_lead(self.rep, company="回滚公司")
        with self.assertRaises(ValidationError) as caught:
            services.convert_lead(self.rep, lead, contact_values={"mobile": "123"})
        self.assertIn("contact_mobile", caught.exception.message_dict)
        self.assertEqual(Customer.objects.count(), 0)
        lead.refresh_from_db()
        self.assertIsNone(lead.converted_at)

    def test_permissions(self):
        lead = make_lead(self.rep, company="权限公司")
        with self.assertRaises(PermissionDenied):
            services.convert_lead(self.finance, lead)  # may view leads, not edit them
        from django.http import Http404

        with self.assertRaises(Http404):
            services.convert_lead(self.other_rep, lead)  # outside their scope
        self.assertEqual(Customer.objects.count(), 0)

    def test_manager_converts_for_the_rep(self):
        lead = make_lead(self.rep, company="经理转化公司")
        customer, _contact = services.convert_lead(self.manager, lead)
        self.assertEqual(customer.owner, self.rep)
        self.assertEqual(customer.department, self.team)


class TestConvertPage(ConvertBase):
    def test_get_prefilled_and_post(self):
        lead = make_lead(self.rep, name="陈晓明", company="启明软件", mobile="13800138000")
        self.client.force_login(self.rep)
        url = reverse("leads:lead_convert", args=[lead.pk])
        response = self.client.get(url)
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertEqual(form.initial["name"], "启明软件")
        self.assertEqual(form.initial["contact_mobile"], "13800138000")
        response = self.client.post(url, {"name": "启明软件有限公司", "create_contact": "on", "contact_name": "陈晓明",
                                          "contact_mobile": "13800138000"})
        customer = Customer.objects.get(name="启明软件有限公司")
        self.assertRedirects(response, customer.get_absolute_url(), fetch_redirect_response=False)
        # The customer page lists the source lead.
        response = self.client.get(customer.get_absolute_url(), {"tab": "leads"})
        self.assertContains(response, 'data-testid="customer-source-leads"')
        self.assertContains(response, lead.get_absolute_url())
        # Twice: the page sends the user back to the lead.
        response = self.client.get(url)
        self.assertRedirects(response, lead.get_absolute_url(), fetch_redirect_response=False)
        response = self.client.post(url, {"name": "再来一次"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Customer.objects.filter(name="再来一次").exists())
        detail = self.client.get(lead.get_absolute_url())
        self.assertContains(detail, 'data-testid="lead-converted"')
        self.assertNotContains(detail, 'data-testid="lead-convert"')

    def test_invalid_input_is_400(self):
        lead = make_lead(self.rep, company="校验公司")
        self.client.force_login(self.rep)
        url = reverse("leads:lead_convert", args=[lead.pk])
        response = self.client.post(url, {"name": "", "create_contact": "on", "contact_name": ""})
        self.assertEqual(response.status_code, 400)
        self.assertIn("name", response.context["form"].errors)
        self.assertIn("contact_name", response.context["form"].errors)
        response = self.client.post(url, {"name": "校验公司", "credit_code": "123", "create_contact": "on", "contact_name": "x"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("credit_code", response.context["form"].errors)
        response = self.client.post(url, {"name": "x", "contact_mobile": "12", "_validate": "contact_mobile"}, HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(Customer.objects.count(), 0)

    def test_matches_offer_attach_only_when_editable(self):
        mine = factories.make_customer(self.rep, name="启明软件有限公司")
        theirs = factories.make_customer(self.other_rep, name="启明软件（北京）有限公司")
        lead = make_lead(self.rep, company="启明软件")
        found = [Match(obj=mine, object_type="customer", pk=mine.pk, fields=["name"]),
                 Match(obj=theirs, object_type="customer", pk=theirs.pk, fields=["name"])]
        self.client.force_login(self.rep)
        url = reverse("leads:lead_convert", args=[lead.pk])
        with mock.patch("yingdan.duplicates.services.find_matches", return_value=found):
            response = self.client.get(url)
            content = response.content.decode()
            self.assertIn(f'data-match="{mine.pk}"', content)
            self.assertIn('data-testid="match-needs-transfer"', content)
            self.assertNotIn(theirs.name, content)  # out of scope: owner and department only
            self.assertIn(str(self.other_rep), content)
        # (the real duplicate checks run on save: the contact "陈" matches nothing)
        response = self.client.post(url, {"existing_customer": theirs.pk, "create_contact": "on", "contact_name": "x"})
        self.assertEqual(response.status_code, 400)
        response = self.client.post(url, {"existing_customer": mine.pk, "create_contact": "on", "contact_name": "陈"})
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        lead.refresh_from_db()
        self.assertEqual(lead.converted_customer, mine)
        self.assertEqual(Customer.objects.count(), 2)

    def test_refused_users(self):
        lead = make_lead(self.rep, company="拒绝公司")
        url = reverse("leads:lead_convert", args=[lead.pk])
        self.client.force_login(self.finance)
        self.assertEqual(self.client.get(url).status_code, 403)
        self.assertEqual(self.client.post(url, {"name": "x"}).status_code, 403)
        self.client.force_login(self.other_rep)
        self.assertEqual(self.client.get(url).status_code, 404)
        self.assertEqual(self.client.post(url, {"name": "x"}).status_code, 404)
        self.assertEqual(Customer.objects.count(), 0)
