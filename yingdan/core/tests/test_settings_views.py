from django.test import TestCase
from django.urls import reverse

from yingdan.core.models import CustomField, Lookup, ObjectChange
from yingdan.customers.models import Customer

from . import factories


class SettingsPagesTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.dept = factories.make_department("总部")
        cls.admin = factories.make_user("sadmin", ["admin"], cls.dept)
        cls.rep = factories.make_user("srep", ["rep"], cls.dept)

    def test_rep_is_refused_everywhere(self):
        self.client.force_login(self.rep)
        for name in ("core:customfield_list", "core:customfield_add", "core:lookup_list", "core:lookup_add", "core:objectchange_list"):
            self.assertEqual(self.client.get(reverse(name)).status_code, 403, name)
        response = self.client.post(reverse("core:customfield_add"), {"object_type": "customers.customer", "name": "x", "label": "X", "type": "text", "order": 1})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(CustomField.objects.exists())

    def test_admin_creates_select_field_then_retires_an_option(self):
        self.client.force_login(self.admin)
        response = self.client.post(reverse("core:customfield_add"), {
            "object_type": "customers.customer", "name": "scale", "label": "规模", "label_en": "Scale", "type": "select",
            "choices_text": "s | 小 | Small\nl | 大 | Large", "order": 10, "filterable": "on",
        })
        self.assertEqual(response.status_code, 302)
        field = CustomField.objects.get(name="scale")
        self.assertEqual([c["value"] for c in field.choices], ["s", "l"])
        # Removing a line retires the option instead of deleting it.
        response = self.client.post(reverse("core:customfield_edit", args=[field.pk]), {
            "label": "规模", "choices_text": "l | 大 | Large", "order": 10,
        })
        self.assertEqual(response.status_code, 302)
        field.refresh_from_db()
        self.assertEqual({c["value"]: c["active"] for c in field.choices}, {"l": True, "s": False})
        self.assertTrue(ObjectChange.objects.filter(content_type__model="customfield", object_id=field.pk, action="update").exists())

    def test_bad_definitions_are_refused_with_messages(self):
        self.client.force_login(self.admin)
        cases = [
            {"name": "Bad Key", "type": "text"},
            {"name": "name", "type": "text"},  # a built-in field
            {"name": "opts", "type": "select", "choices_text": ""},
            {"name": "rx", "type": "text", "regex": "(["},
            {"name": "rng", "type": "integer", "min_value": "10", "max_value": "1"},
        ]
        for case in cases:
            data = {"object_type": "customers.customer", "label": "L", "order": 1, **case}
            response = self.client.post(reverse("core:customfield_add"), data)
            self.assertEqual(response.status_code, 400, case)
            self.assertContains(response, "invalid-feedback", status_code=400)
        self.assertFalse(CustomField.objects.exists())

    def test_type_cannot_change(self):
        field = factories.make_custom_field(Customer, "budget", "money")
        self.client.force_login(self.admin)
        self.client.post(reverse("core:customfield_edit", args=[field.pk]), {"label": "预算", "type": "text", "order": 1})
        field.refresh_from_db()
        self.assertEqual(field.type, "money")

    def test_lookup_add_rename_and_default(self):
        self.client.force_login(self.admin)
        response = self.client.post(reverse("core:lookup_add"), {"kind": "customer_level", "name": "S 战略客户", "order": 1, "is_default": "on", "is_active": "on"})
        self.assertEqual(response.status_code, 302)
        new = Lookup.objects.get(name="S 战略客户")
        self.assertTrue(new.is_default)
        response = self.client.post(reverse("core:lookup_add"), {"kind": "customer_level", "name": "S 战略客户", "order": 1})
        self.assertEqual(response.status_code, 400)
        response = self.client.post(reverse("core:lookup_add"), {"kind": "nonsense", "name": "x", "order": 1})
        self.assertEqual(response.status_code, 400)
        listing = self.client.get(reverse("core:lookup_list"), {"kind": "customer_level"})
        self.assertContains(listing, "S 战略客户")

    def test_change_log_search(self):
        owner = factories.make_user("clog", ["rep"], self.dept)
        customer = factories.make_customer(owner, name="审计客户")
        self.client.force_login(self.admin)
        response = self.client.get(reverse("core:objectchange_list"), {"q": "审计客户"})
        self.assertContains(response, "审计客户")
        change = ObjectChange.objects.filter(object_id=customer.pk, content_type__model="customer").first()
        self.assertContains(self.client.get(reverse("core:objectchange_detail", args=[change.pk])), "审计客户")
        self.assertNotContains(self.client.get(reverse("core:objectchange_list"), {"q": "不存在的东西"}), "审计客户")


class NavigationTests(TestCase):
    def test_active_entry_and_modules_hidden_without_permission(self):
        dept = factories.make_department("导航")
        rep = factories.make_user("navrep", ["rep"], dept)
        self.client.force_login(rep)
        response = self.client.get(reverse("customers:contact_list"))
        items = [i for s in response.context["nav_sections"] for i in s["items"]]
        active = [i["url"] for i in items if i["active"]]
        self.assertEqual(active, [reverse("customers:contact_list")])
        urls = {i["url"] for i in items}
        self.assertNotIn(reverse("core:customfield_list"), urls)  # reps have no settings permission
        self.assertNotIn(reverse("org:role_list"), urls)


class RedirectSafetyTests(TestCase):
    def test_next_and_return_urls_stay_on_site(self):
        from yingdan.core.views.generic import is_local_url

        for url in ("//evil.com", "/\\evil.com", "https://evil.com", "javascript:alert(1)"):
            self.assertFalse(is_local_url(url), url)
        self.assertTrue(is_local_url("/customers/?page=2"))
        dept = factories.make_department("跳转")
        rep = factories.make_user("redir", ["rep"], dept)
        self.client.force_login(rep)
        response = self.client.post(reverse("customers:customer_add") + "?next=/%5Cevil.com", {"name": "跳转测试"})
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/customers/"))


class SettingsAddButtonTests(TestCase):
    def test_add_links_follow_the_settings_edit_permission(self):
        dept = factories.make_department("设置")
        admin = factories.make_user("setadmin", ["admin"], dept)
        viewer_role = factories.make_role("设置只读", {"settings": {"actions": ["view"], "scope": "all"}})
        viewer = factories.make_user("setviewer", roles=[viewer_role], department=dept)
        self.client.force_login(admin)
        self.assertContains(self.client.get(reverse("core:customfield_list")), reverse("core:customfield_add"))
        self.assertContains(self.client.get(reverse("core:lookup_list")), reverse("core:lookup_add"))
        form = self.client.get(reverse("core:lookup_add"), {"kind": "industry"}).context["form"]
        self.assertEqual(form["kind"].value(), "industry")
        self.client.force_login(viewer)
        self.assertNotContains(self.client.get(reverse("core:customfield_list")), reverse("core:customfield_add"))
        self.assertEqual(self.client.get(reverse("core:lookup_add")).status_code, 403)
