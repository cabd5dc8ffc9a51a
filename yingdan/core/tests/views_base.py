"""Generic view test cases (NetBox-style): declare a model's URLs and data, inherit the checks.

    class TestCustomerViews(ViewTestCases.All):
        url_base = "customers:customer"
        module = "customers"
        def make_object(self, owner): ...
        def form_data(self): ...
        def invalid_form_data(self): ...

Each subclass gets: anonymous → login redirect; user without the module permission → 403; permitted user → 200
and the write happens (with a change-log row); a user whose data scope excludes the object → 404 on detail,
edit and delete and absent from the list; invalid input → 400 with field messages and nothing written;
query-count guards on the list and detail pages (they must not grow with the number of rows).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from yingdan.core.models import ObjectChange

from . import factories


class ViewTestCases:
    class Base(TestCase):
        url_base = ""
        module = ""
        model = None
        list_query_budget = 25
        detail_query_budget = 30

        @classmethod
        def setUpTestData(cls):
            cls.region_a = factories.make_department("华东区")
            cls.team_a = factories.make_department("上海一组", parent=cls.region_a)
            cls.region_b = factories.make_department("华南区")
            cls.admin = factories.make_user("admin_t", ["admin"], cls.team_a, name="管理员")
            cls.owner = factories.make_user("owner_t", ["rep"], cls.team_a, name="张伟")
            cls.outsider = factories.make_user("outsider_t", ["rep"], cls.region_b, name="李娜")
            cls.manager_b = factories.make_user("manager_b", ["manager"], cls.region_b, name="王芳")
            cls.noperm = factories.make_user("noperm_t", [], cls.team_a, name="刘洋")

        def url(self, action, obj=None):
            name = f"{self.url_base}_{action}"
            return reverse(name, args=[obj.pk]) if obj is not None else reverse(name)

        def make_object(self, owner):
            raise NotImplementedError

        def login(self, user):
            self.client.force_login(user)

    class ListView(Base):
        def test_list_anonymous_redirects_to_login(self):
            response = self.client.get(self.url("list"))
            self.assertEqual(response.status_code, 302)
            self.assertIn(reverse("login"), response["Location"])

        def test_list_without_permission_is_403(self):
            self.login(self.noperm)
            self.assertEqual(self.client.get(self.url("list")).status_code, 403)

        def test_list_shows_own_and_hides_out_of_scope(self):
            mine = self.make_object(self.owner)
            theirs = self.make_object(self.outsider)
            self.login(self.owner)
            response = self.client.get(self.url("list"))
            self.assertEqual(response.status_code, 200)
            self.assertContains(response, mine.get_absolute_url())
            self.assertNotContains(response, theirs.get_absolute_url())
            self.assertNotContains(response, str(theirs))

        def test_list_query_count_does_not_grow_with_rows(self):
            for _ in range(3):
                self.make_object(self.owner)
            self.login(self.admin)
            with CaptureQueriesContext(connection) as few:
                self.assertEqual(self.client.get(self.url("list")).status_code, 200)
            for _ in range(12):
                self.make_object(self.owner)
            with CaptureQueriesContext(connection) as many:
                self.assertEqual(self.client.get(self.url("list")).status_code, 200)
            self.assertEqual(len(few), len(many), "list queries grow with the number of rows (N+1)")
            self.assertLessEqual(len(many), self.list_query_budget)

        def test_list_sort_and_paginate(self):
            for _ in range(3):
                self.make_object(self.owner)
            self.login(self.admin)
            response = self.client.get(self.url("list"), {"sort": "-name", "per_page": 25, "page": 2})
            self.assertEqual(response.status_code, 200)
            response = self.client.get(self.url("list"), {"sort": "no_such_column", "page": "x"})
            self.assertEqual(response.status_code, 200)

    class DetailView(Base):
        def test_detail_anonymous_redirects(self):
            obj = self.make_object(self.owner)
            self.assertEqual(self.client.get(self.url("detail", obj)).status_code, 302)

        def test_detail_permitted(self):
            obj = self.make_object(self.owner)
            self.login(self.owner)
            for tab in ("overview", "changelog"):
                response = self.client.get(self.url("detail", obj), {"tab": tab})
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, str(obj))

        def test_detail_without_permission_is_403(self):
            obj = self.make_object(self.owner)
            self.login(self.noperm)
            self.assertEqual(self.client.get(self.url("detail", obj)).status_code, 403)

        def test_detail_out_of_scope_is_404_without_leaking_the_name(self):
            obj = self.make_object(self.owner)
            for user in (self.outsider, self.manager_b):
                self.login(user)
                response = self.client.get(self.url("detail", obj))
                self.assertEqual(response.status_code, 404)
                self.assertNotIn(str(obj), response.content.decode())

        def test_detail_query_budget(self):
            obj = self.make_object(self.owner)
            self.login(self.admin)
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(self.url("detail", obj)).status_code, 200)
            self.assertLessEqual(len(queries), self.detail_query_budget)

    class CreateView(Base):
        def form_data(self) -> dict:
            raise NotImplementedError

        def invalid_form_data(self) -> dict:
            raise NotImplementedError

        def test_create_without_permission_is_403(self):
            self.login(self.noperm)
            self.assertEqual(self.client.get(self.url("add")).status_code, 403)
            before = self.model.objects.count()
            self.assertEqual(self.client.post(self.url("add"), self.form_data()).status_code, 403)
            self.assertEqual(self.model.objects.count(), before)

        def test_create_permitted_writes_and_audits(self):
            self.login(self.owner)
            self.assertEqual(self.client.get(self.url("add")).status_code, 200)
            before = self.model.objects.count()
            response = self.client.post(self.url("add"), self.form_data())
            self.assertEqual(response.status_code, 302, getattr(response, "content", b"")[:2000])
            self.assertEqual(self.model.objects.count(), before + 1)
            obj = self.model.objects.order_by("-pk").first()
            change = ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(self.model), object_id=obj.pk).first()
            self.assertIsNotNone(change)
            self.assertEqual(change.action, "create")
            self.assertEqual(change.user_id, self.owner.pk)
            self.assertEqual(change.source, "web")

        def test_create_invalid_is_400_and_writes_nothing(self):
            self.login(self.owner)
            before = self.model.objects.count()
            changes = ObjectChange.objects.count()
            response = self.client.post(self.url("add"), self.invalid_form_data())
            self.assertEqual(response.status_code, 400)
            self.assertContains(response, "invalid-feedback", status_code=400)
            self.assertEqual(self.model.objects.count(), before)
            self.assertEqual(ObjectChange.objects.count(), changes)

    class EditView(Base):
        def edit_data(self, obj) -> dict:
            return self.form_data()

        def test_edit_permitted(self):
            obj = self.make_object(self.owner)
            self.login(self.owner)
            self.assertEqual(self.client.get(self.url("edit", obj)).status_code, 200)
            response = self.client.post(self.url("edit", obj), self.edit_data(obj))
            self.assertEqual(response.status_code, 302, getattr(response, "content", b"")[:2000])
            self.assertTrue(ObjectChange.objects.filter(object_id=obj.pk, action="update",
                                                        content_type=ContentType.objects.get_for_model(self.model)).exists())

        def test_edit_out_of_scope_is_404_and_unchanged(self):
            obj = self.make_object(self.owner)
            name = str(obj)
            self.login(self.outsider)
            self.assertEqual(self.client.get(self.url("edit", obj)).status_code, 404)
            self.assertEqual(self.client.post(self.url("edit", obj), self.edit_data(obj)).status_code, 404)
            obj.refresh_from_db()
            self.assertEqual(str(obj), name)

    class DeleteView(Base):
        delete_user_attr = "admin"

        def test_delete_out_of_scope_is_404(self):
            obj = self.make_object(self.owner)
            self.login(self.manager_b)  # may delete, but only in region B
            self.assertEqual(self.client.post(self.url("delete", obj)).status_code, 404)
            self.assertTrue(self.model.objects.filter(pk=obj.pk).exists())

        def test_delete_without_permission_is_403(self):
            obj = self.make_object(self.owner)
            self.login(self.owner)  # reps may not delete
            self.assertEqual(self.client.post(self.url("delete", obj)).status_code, 403)
            self.assertTrue(self.model.objects.filter(pk=obj.pk).exists())

        def test_delete_permitted_and_audited(self):
            obj = self.make_object(self.owner)
            self.login(getattr(self, self.delete_user_attr))
            self.assertEqual(self.client.get(self.url("delete", obj)).status_code, 200)
            self.assertEqual(self.client.post(self.url("delete", obj)).status_code, 302)
            self.assertFalse(self.model.objects.filter(pk=obj.pk).exists())
            self.assertTrue(ObjectChange.objects.filter(object_id=obj.pk, action="delete",
                                                        content_type=ContentType.objects.get_for_model(self.model)).exists())

    class All(ListView, DetailView, CreateView, EditView, DeleteView):
        pass
