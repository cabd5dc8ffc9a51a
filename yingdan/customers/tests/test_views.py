from django.urls import reverse

from yingdan.core.models import ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.customers.models import Contact, Customer


class TestCustomerViews(ViewTestCases.All):
    url_base = "customers:customer"
    module = "customers"
    model = Customer

    def make_object(self, owner):
        return factories.make_customer(owner, credit_code=factories.valid_credit_code())

    def form_data(self):
        return {"name": "上海启明软件有限公司", "credit_code": factories.valid_credit_code(), "phone": "021-6234 5678"}

    def invalid_form_data(self):
        return {"name": "", "credit_code": "91310000MA1FL1234X", "phone": "12345"}

    def test_html_in_name_is_stored_as_text_and_escaped(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "<script>alert(1)</script>有限公司"})
        self.assertEqual(response.status_code, 302)
        customer = Customer.objects.get(name="<script>alert(1)</script>有限公司")
        page = self.client.get(customer.get_absolute_url()).content.decode()
        self.assertNotIn("<script>alert(1)</script>", page)
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)

    def test_field_level_messages(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "x" * 201, "credit_code": "91310000MA1FL1234X", "phone": "12345"})
        self.assertEqual(response.status_code, 400)
        errors = response.context["form"].errors
        self.assertIn("name", errors)
        self.assertIn("credit_code", errors)
        self.assertIn("phone", errors)

    def test_phone_normalised(self):
        self.login(self.owner)
        self.client.post(self.url("add"), {"name": "号码测试有限公司", "phone": "+86 138-0013-8000"})
        self.assertEqual(Customer.objects.get(name="号码测试有限公司").phone, "13800138000")

    def test_rep_cannot_assign_to_someone_else(self):
        self.login(self.owner)
        form = self.client.get(self.url("add")).context["form"]
        self.assertTrue(form.fields["owner"].disabled)
        response = self.client.post(self.url("add"), {"name": "转移测试", "owner": self.outsider.pk})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Customer.objects.get(name="转移测试").owner, self.owner)  # the posted owner is ignored

    def test_service_refuses_owner_change_without_transfer(self):
        from django.core.exceptions import ValidationError

        from yingdan.customers.services import save_customer

        customer = self.make_object(self.owner)
        customer.owner = self.outsider
        with self.assertRaises(ValidationError):
            save_customer(self.owner, customer)
        customer.refresh_from_db()
        self.assertEqual(customer.owner, self.owner)

    def test_owner_defaults_to_creator_and_department_follows(self):
        self.login(self.owner)
        self.client.post(self.url("add"), {"name": "部门测试"})
        customer = Customer.objects.get(name="部门测试")
        self.assertEqual(customer.owner, self.owner)
        self.assertEqual(customer.department, self.team_a)

    def test_manager_sees_subdepartment_records(self):
        manager_a = factories.make_user("manager_a", ["manager"], self.region_a)
        obj = self.make_object(self.owner)
        self.login(manager_a)
        self.assertEqual(self.client.get(self.url("detail", obj)).status_code, 200)

    def test_inline_validation_returns_the_field_with_its_error(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "x", "credit_code": "123", "_validate": "credit_code"}, HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="field-credit_code"')
        self.assertContains(response, "18")
        self.assertFalse(Customer.objects.filter(name="x").exists())

    def test_custom_field_on_form_detail_list_and_filter(self):
        factories.make_custom_field(Customer, "budget", "money", label="预算", show_in_list=True, min_value=0)
        factories.make_custom_field(Customer, "scale", "select", label="规模", choices=[{"value": "s", "label": "小"}, {"value": "l", "label": "大"}])
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "自定义字段测试", "cf_budget": "-5"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("cf_budget", response.context["form"].errors)
        response = self.client.post(self.url("add"), {"name": "自定义字段测试", "cf_budget": "12345.5", "cf_scale": "l"})
        self.assertEqual(response.status_code, 302)
        customer = Customer.objects.get(name="自定义字段测试")
        self.assertEqual(customer.custom_fields, {"budget": "12345.50", "scale": "l"})
        self.assertContains(self.client.get(customer.get_absolute_url()), "¥12,345.50")
        listing = self.client.get(self.url("list"), {"cf_scale": "l"})
        self.assertContains(listing, "自定义字段测试")
        self.assertContains(listing, "预算")
        self.assertNotContains(self.client.get(self.url("list"), {"cf_scale": "s"}), "自定义字段测试")
        self.assertContains(self.client.get(self.url("list"), {"cf_budget_min": "10000"}), "自定义字段测试")
        self.assertNotContains(self.client.get(self.url("list"), {"cf_budget_min": "20000"}), "自定义字段测试")
        change = ObjectChange.objects.filter(object_id=customer.pk, action="create").first()
        self.assertEqual(change.changes["cf_budget"], [None, "12345.50"])

    def test_retired_choice_is_kept_and_shown(self):
        field = factories.make_custom_field(Customer, "scale", "select", label="规模", choices=[{"value": "s", "label": "小"}, {"value": "l", "label": "大"}])
        customer = self.make_object(self.owner)
        customer.custom_fields = {"scale": "s"}
        customer.save()
        field.choices = [{"value": "s", "label": "小型", "active": False}, {"value": "l", "label": "大"}]
        field.full_clean()
        field.save()
        self.login(self.owner)
        self.assertContains(self.client.get(customer.get_absolute_url()), "小型")
        # editing something else keeps the retired value; choosing it anew is refused
        response = self.client.post(self.url("edit", customer), {"name": customer.name, "cf_scale": "s"})
        self.assertEqual(response.status_code, 302)
        customer.refresh_from_db()
        self.assertEqual(customer.custom_fields["scale"], "s")
        other = self.make_object(self.owner)
        response = self.client.post(self.url("edit", other), {"name": other.name, "cf_scale": "s"})
        self.assertEqual(response.status_code, 400)

    def test_field_permission_hidden_and_read_only(self):
        role = factories.make_role(
            "只读电话", {"customers": {"actions": ["view", "create", "edit"], "scope": "own"}},
            {"customers": {"phone": "hidden", "industry": "read"}},
        )
        user = factories.make_user("limited", roles=[role], department=self.team_a)
        customer = factories.make_customer(user, phone="13800138000")
        self.login(user)
        detail = self.client.get(customer.get_absolute_url()).content.decode()
        self.assertNotIn("13800138000", detail)
        form = self.client.get(self.url("edit", customer)).context["form"]
        self.assertNotIn("phone", form.fields)
        self.assertTrue(form.fields["industry"].disabled)
        listing = self.client.get(self.url("list"), {"columns": "name,phone"}).content.decode()
        self.assertNotIn("13800138000", listing)

    def test_bulk_transfer_and_edit(self):
        a, b = self.make_object(self.owner), self.make_object(self.owner)
        director = factories.make_user("director_t", ["director"], self.region_a)
        self.login(director)
        response = self.client.post(reverse("customers:customer_bulk_transfer"), {"pk": [a.pk, b.pk], "owner": self.outsider.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        a.refresh_from_db()
        self.assertEqual(a.owner, self.outsider)
        self.assertEqual(a.department, self.region_b)
        self.login(self.owner)  # reps have no transfer permission
        response = self.client.post(reverse("customers:customer_bulk_transfer"), {"pk": [a.pk], "owner": self.owner.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 403)

    def test_bulk_delete_only_touches_scope(self):
        mine = self.make_object(self.owner)
        theirs = self.make_object(self.outsider)
        manager_a = factories.make_user("manager_a2", ["manager"], self.region_a)
        self.login(manager_a)
        self.client.post(reverse("customers:customer_bulk_delete"), {"pk": [mine.pk, theirs.pk], "_apply": "1"})
        self.assertFalse(Customer.objects.filter(pk=mine.pk).exists())
        self.assertTrue(Customer.objects.filter(pk=theirs.pk).exists())

    def test_saved_view_round_trip(self):
        self.login(self.owner)
        response = self.client.post(reverse("core:savedview_save"), {
            "list_key": "customers.customer", "name": "我的A类", "query": "level=1&sort=-name",
            "columns": "name,level", "return_url": self.url("list"), "is_default": "on",
        })
        self.assertEqual(response.status_code, 302)
        response = self.client.get(self.url("list"))
        self.assertEqual(response.context["active_saved_view"].name, "我的A类")
        self.assertEqual(response.context["table"].visible_names, ["name", "level"])


class TestContactViews(ViewTestCases.All):
    url_base = "customers:contact"
    module = "contacts"
    model = Contact

    def make_object(self, owner):
        customer = factories.make_customer(owner)
        return factories.make_contact(customer, mobile="13900139000", email="a@example.com")

    def form_data(self):
        customer = factories.make_customer(self.owner)
        return {"name": "陈静", "customer": customer.pk, "mobile": "139 0013 9001", "email": "Chen@Example.com"}

    def edit_data(self, obj):
        return {"name": obj.name + "改", "customer": obj.customer_id, "mobile": obj.mobile}

    def invalid_form_data(self):
        return {"name": "", "customer": 999999, "mobile": "abc", "email": "not-an-email"}

    def test_cannot_attach_to_out_of_scope_customer(self):
        theirs = factories.make_customer(self.outsider)
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "偷偷加", "customer": theirs.pk})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Contact.objects.filter(name="偷偷加").exists())

    def test_contacts_follow_customer_scope(self):
        contact = self.make_object(self.owner)
        self.login(self.outsider)
        self.assertEqual(self.client.get(self.url("detail", contact)).status_code, 404)


class TestCustomerTags(ViewTestCases.Base):
    url_base = "customers:customer"

    def test_tags_typed_as_text_are_created_and_shown(self):
        self.login(self.owner)
        response = self.client.post(self.url("add"), {"name": "标签测试", "tags": "重点, 华东、重点"})
        self.assertEqual(response.status_code, 302)
        customer = Customer.objects.get(name="标签测试")
        self.assertEqual(sorted(t.name for t in customer.tags.all()), ["华东", "重点"])
        form = self.client.get(self.url("edit", customer)).context["form"]
        self.assertIn("重点", form["tags"].value() if isinstance(form["tags"].value(), str) else ", ".join(form["tags"].value()))


class TestCappedPagination(ViewTestCases.Base):
    url_base = "customers:customer"

    def test_count_is_capped_and_deep_pages_still_work(self):
        from unittest import mock

        for _ in range(30):
            factories.make_customer(self.owner)
        self.login(self.admin)
        with mock.patch("yingdan.core.views.generic.COUNT_CAP", 20):
            response = self.client.get(self.url("list"), {"per_page": 25})
            self.assertTrue(response.context["count_capped"])
            self.assertContains(response, "20+")
            self.assertTrue(response.context["page"].has_more)
            page2 = self.client.get(self.url("list"), {"per_page": 25, "page": 2})
            self.assertEqual(page2.context["page"].number, 2)
            self.assertEqual(len(page2.context["table"].rows), 5)
            self.assertFalse(page2.context["page"].has_more)
        ids_page1 = [r.pk for r in response.context["table"].rows]
        self.assertEqual(ids_page1, sorted(ids_page1, reverse=True))  # newest first, in page order


class TestListSearch(ViewTestCases.Base):
    url_base = "customers:customer"

    def test_q_uses_name_fragment_pinyin_initials_and_phone(self):
        tencent = factories.make_customer(self.owner, name="腾讯科技（深圳）有限公司", phone="0755-86013388")
        other = factories.make_customer(self.owner, name="百度在线网络技术")
        self.login(self.owner)
        for q in ("科技", "腾讯", "txkj", "tengxun", "0755-8601", "讯"):
            names = [c.name for c in self.client.get(self.url("list"), {"q": q}).context["table"].rows]
            self.assertIn(tencent.name, names, q)
            self.assertNotIn(other.name, names, q)
        self.assertEqual(list(self.client.get(self.url("list"), {"q": "不存在"}).context["table"].rows), [])

    def test_q_respects_scope(self):
        theirs = factories.make_customer(self.outsider, name="外区科技")
        self.login(self.owner)
        names = [c.name for c in self.client.get(self.url("list"), {"q": "科技"}).context["table"].rows]
        self.assertNotIn(theirs.name, names)
