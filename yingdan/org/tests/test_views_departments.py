"""Department pages: the tree (list page), the flat list, detail, create/edit (no cycles), delete."""

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from yingdan.core.models import ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.org.models import Department


def dept_changes(dept, action):
    return ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(Department), object_id=dept.pk, action=action)


class DepartmentViewsBase(ViewTestCases.Base):
    url_base = "org:department"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.team_b = factories.make_department("广州一组", parent=cls.region_b)
        # Region B's department administrator: all department actions, but only on region B and below.
        cls.dept_admin_role = factories.make_role(
            "部门管理(华南)", {"departments": {"actions": ["view", "create", "edit", "delete"], "scope": "department_tree"}}
        )
        cls.dept_admin_b = factories.make_user("dept_b", roles=[cls.dept_admin_role], department=cls.region_b, name="部门管理员")
        factories.make_user("member_b", ["rep"], cls.team_b, name="广州组员")


class TestDepartmentTree(DepartmentViewsBase):
    def test_anonymous_and_forbidden(self):
        for url in (self.url("list"), reverse("org:department_table"), self.url("detail", self.team_a)):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302)
            self.assertIn(reverse("login"), response["Location"])
        self.login(self.noperm)
        for url in (self.url("list"), reverse("org:department_table"), self.url("detail", self.team_a), self.url("add")):
            self.assertEqual(self.client.get(url).status_code, 403, url)

    def test_tree_is_indented_with_members_and_managers(self):
        sub = factories.make_department("徐汇小组", parent=self.team_a, manager=self.owner)
        self.login(self.admin)
        response = self.client.get(self.url("list"))
        self.assertEqual(response.status_code, 200)
        nodes = {n["dept"].name: n for n in response.context["nodes"]}
        self.assertEqual([nodes[n]["level"] for n in ("华东区", "上海一组", "徐汇小组")], [0, 1, 2])
        order = [n["dept"].name for n in response.context["nodes"]]
        self.assertLess(order.index("华东区"), order.index("上海一组"))
        self.assertLess(order.index("上海一组"), order.index("徐汇小组"))
        # team A: admin, owner, noperm; region A total includes it
        self.assertEqual(nodes["上海一组"]["dept"].member_count, 3)
        self.assertEqual(nodes["华东区"]["dept"].member_count, 0)
        self.assertEqual(nodes["华东区"]["total"], 3)
        self.assertEqual(nodes["华东区"]["children"], 1)
        self.assertContains(response, "data-tree-toggle")
        self.assertContains(response, str(self.owner))  # the manager of 徐汇小组
        self.assertContains(response, sub.get_absolute_url())

    def test_tree_only_shows_the_scope(self):
        self.login(self.dept_admin_b)
        response = self.client.get(self.url("list"))
        names = [n["dept"].name for n in response.context["nodes"]]
        self.assertEqual(names, ["华南区", "广州一组"])
        self.assertNotContains(response, "华东区")
        self.assertEqual(self.client.get(self.url("detail", self.team_a)).status_code, 404)
        self.assertEqual(self.client.get(self.url("edit", self.team_a)).status_code, 404)

    def test_flat_list_filters_sorts_pages(self):
        self.login(self.admin)
        url = reverse("org:department_table")
        rows = self.client.get(url, {"parent": self.region_a.pk}).context["table"].rows
        self.assertEqual([d.name for d in rows], ["上海一组"])
        rows = self.client.get(url, {"q": "华南"}).context["table"].rows
        self.assertEqual([d.name for d in rows], ["华南区"])
        rows = self.client.get(url, {"sort": "-member_count"}).context["table"].rows
        counts = [d.member_count for d in rows]
        self.assertEqual(counts, sorted(counts, reverse=True))
        self.assertEqual(counts[0], 3)
        self.assertEqual(self.client.get(url, {"sort": "bogus", "page": "9"}).status_code, 200)

    def test_detail_tabs(self):
        self.login(self.admin)
        response = self.client.get(self.url("detail", self.team_a))
        self.assertContains(response, "华东区 / 上海一组")
        members = self.client.get(self.url("detail", self.team_a), {"tab": "members"})
        self.assertContains(members, self.owner.get_absolute_url())
        children = self.client.get(self.url("detail", self.region_a), {"tab": "children"})
        self.assertContains(children, self.team_a.get_absolute_url())
        log = self.client.get(self.url("detail", self.team_a), {"tab": "changelog"})
        self.assertGreater(len(log.context["changes"]), 0)


class TestDepartmentEdit(DepartmentViewsBase):
    def test_create_permitted_writes_and_audits(self):
        self.login(self.dept_admin_b)
        self.assertEqual(self.client.get(self.url("add"), {"parent": self.team_b.pk}).status_code, 200)
        response = self.client.post(self.url("add"), {"name": "深圳一组", "parent": self.region_b.pk, "manager": self.manager_b.pk, "order": 10, "is_active": "on"})
        self.assertEqual(response.status_code, 302, response.content[:2000])
        dept = Department.objects.get(name="深圳一组")
        self.assertEqual(dept.path, f"{self.region_b.path}{dept.pk}/")
        self.assertEqual(dept.manager, self.manager_b)
        change = dept_changes(dept, "create").get()
        self.assertEqual((change.user_id, change.source), (self.dept_admin_b.pk, "web"))

    def test_create_without_permission_is_403(self):
        self.login(self.owner)  # reps may view departments only
        before = Department.objects.count()
        self.assertEqual(self.client.get(self.url("add")).status_code, 403)
        self.assertEqual(self.client.post(self.url("add"), {"name": "不该有", "order": 1}).status_code, 403)
        self.assertEqual(Department.objects.count(), before)

    def test_cannot_move_under_own_descendant(self):
        self.login(self.admin)
        changes = ObjectChange.objects.count()
        for parent in (self.team_a, self.region_a):
            response = self.client.post(self.url("edit", self.region_a), {"name": "华东区", "parent": parent.pk, "order": 100})
            self.assertEqual(response.status_code, 400)
            self.assertIn("parent", response.context["form"].errors)
            self.assertContains(response, "invalid-feedback", status_code=400)
        self.region_a.refresh_from_db()
        self.assertIsNone(self.region_a.parent_id)
        self.assertEqual(ObjectChange.objects.count(), changes)

    def test_move_updates_the_subtree(self):
        self.login(self.admin)
        response = self.client.post(self.url("edit", self.region_a), {"name": "华东区", "parent": self.region_b.pk, "order": 100})
        self.assertEqual(response.status_code, 302)
        self.team_a.refresh_from_db()
        self.assertEqual(self.team_a.path, f"{self.region_b.path}{self.region_a.pk}/{self.team_a.pk}/")
        self.assertEqual(self.team_a.depth, 2)
        self.assertTrue(dept_changes(self.region_a, "update").exists())

    def test_invalid_input(self):
        self.login(self.admin)
        before = Department.objects.count()
        for data, field in (
            ({"name": "上海一组", "parent": self.region_a.pk, "order": 1}, "__all__"),  # duplicate under the parent
            ({"name": "", "order": 1}, "name"),
            ({"name": "x" * 101, "order": 1}, "name"),
            ({"name": "好", "order": "abc"}, "order"),
            ({"name": "好", "order": 1, "parent": 999999}, "parent"),
        ):
            response = self.client.post(self.url("add"), data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(field, response.context["form"].errors, data)
        self.assertEqual(Department.objects.count(), before)

    def test_edit_out_of_scope_is_404(self):
        self.login(self.dept_admin_b)
        response = self.client.post(self.url("edit", self.team_a), {"name": "改名", "parent": self.region_a.pk, "order": 1})
        self.assertEqual(response.status_code, 404)
        self.team_a.refresh_from_db()
        self.assertEqual(self.team_a.name, "上海一组")


class TestDepartmentDelete(DepartmentViewsBase):
    def test_refused_with_members_or_children(self):
        self.login(self.admin)
        for dept in (self.team_a, self.region_a):  # members / a sub-department
            page = self.client.get(self.url("delete", dept))
            self.assertContains(page, 'data-testid="delete-blocked"')
            response = self.client.post(self.url("delete", dept), follow=True)
            self.assertRedirects(response, self.url("detail", dept))
            self.assertEqual(len(list(response.context["messages"])), 1)
            self.assertTrue(Department.objects.filter(pk=dept.pk).exists())

    def test_delete_empty_department_is_audited(self):
        empty = factories.make_department("空部门", parent=self.region_b)
        self.login(self.dept_admin_b)
        self.assertEqual(self.client.post(self.url("delete", empty)).status_code, 302)
        self.assertFalse(Department.objects.filter(pk=empty.pk).exists())
        self.assertEqual(dept_changes(empty, "delete").get().user_id, self.dept_admin_b.pk)

    def test_delete_forbidden_and_out_of_scope(self):
        empty = factories.make_department("空部门A", parent=self.region_a)
        self.login(self.owner)
        self.assertEqual(self.client.post(self.url("delete", empty)).status_code, 403)
        self.login(self.dept_admin_b)
        self.assertEqual(self.client.post(self.url("delete", empty)).status_code, 404)
        self.assertTrue(Department.objects.filter(pk=empty.pk).exists())

    def test_limited_scope_cannot_create_top_level_departments(self):
        self.login(self.dept_admin_b)
        response = self.client.post(self.url("add"), {"name": "游离部门", "order": 1})
        self.assertEqual(response.status_code, 400)
        self.assertIn("parent", response.context["form"].errors)
        self.assertFalse(Department.objects.filter(name="游离部门").exists())
