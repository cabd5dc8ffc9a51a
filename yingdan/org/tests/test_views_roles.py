"""Role pages: list (built-in badge, user counts), detail, the permission matrix form, delete rules."""

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from yingdan.core.models import ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.customers.models import Customer
from yingdan.org.forms import module_fields
from yingdan.org.models import Role


def role_changes(role, action):
    return ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(Role), object_id=role.pk, action=action)


class RoleViewsBase(ViewTestCases.Base):
    url_base = "org:role"

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.role_admin_role = factories.make_role("角色管理员", {"roles": {"actions": ["view", "create", "edit", "delete"], "scope": "all"}})
        cls.role_admin = factories.make_user("role_admin", roles=[cls.role_admin_role], department=cls.team_a)
        cls.director = factories.make_user("director_r", ["director"], cls.region_a)  # roles: view only

    def matrix_data(self, **extra):
        data = {"name": "渠道专员", "description": "渠道客户", "perm__customers__view": "on", "perm__customers__edit": "on",
                "scope__customers": "department", "perm__contacts__view": "on", "field__customers__phone": "hidden",
                "field__customers__owner": "read", "field__customers__name": "edit"}
        data.update(extra)
        return data


class TestRoleList(RoleViewsBase):
    def test_anonymous_forbidden_permitted(self):
        response = self.client.get(self.url("list"))
        self.assertIn(reverse("login"), response["Location"])
        self.login(self.owner)  # reps have no roles permission
        self.assertEqual(self.client.get(self.url("list")).status_code, 403)
        self.assertEqual(self.client.get(self.url("detail", self.role_admin_role)).status_code, 403)
        self.login(self.director)
        response = self.client.get(self.url("list"))
        self.assertEqual(response.status_code, 200)
        rows = {r.name: r for r in response.context["table"].rows}
        self.assertEqual(rows["销售代表"].user_count, 2)  # owner, outsider
        self.assertEqual(rows["角色管理员"].user_count, 1)
        self.assertContains(response, "text-bg-info-subtle")  # the built-in badge
        self.assertIsNone(response.context["add_url"])

    def test_filter_and_sort(self):
        self.login(self.director)
        rows = self.client.get(self.url("list"), {"is_builtin": "false"}).context["table"].rows
        self.assertEqual([r.name for r in rows], ["角色管理员"])
        rows = self.client.get(self.url("list"), {"q": "销售"}).context["table"].rows
        self.assertEqual({r.name for r in rows}, {"销售总监", "销售经理", "销售代表"})
        rows = self.client.get(self.url("list"), {"sort": "-user_count"}).context["table"].rows
        self.assertEqual(rows[0].user_count, max(r.user_count for r in rows))

    def test_detail_shows_the_matrix_and_admin_roles_all_permissions(self):
        self.login(self.director)
        rep = Role.objects.get(code="rep")
        response = self.client.get(self.url("detail", rep))
        self.assertContains(response, 'data-testid="role-permissions"')
        rows = {r["module"].key: r for r in response.context["permission_rows"]}
        self.assertEqual([a["key"] for a in rows["customers"]["actions"] if a["granted"]], ["view", "create", "edit", "export"])
        self.assertIsNone(response.context["delete_url"])
        admin = self.client.get(self.url("detail", Role.objects.get(code="admin")))
        self.assertContains(admin, 'data-testid="all-permissions"')
        users = self.client.get(self.url("detail", rep), {"tab": "users"})
        self.assertContains(users, self.owner.get_absolute_url())


class TestRoleEdit(RoleViewsBase):
    def test_new_role_starts_with_nothing_and_own_scope(self):
        self.login(self.role_admin)
        form = self.client.get(self.url("add")).context["form"]
        bound = [form[n] for n in form.fields if n.startswith("perm__")]
        self.assertTrue(bound)
        self.assertFalse(any(f.value() for f in bound))
        self.assertEqual({form[n].value() for n in form.fields if n.startswith("scope__")}, {"own"})
        matrix = form.matrix()
        departments = next(r for r in matrix["rows"] if r["module"].key == "departments")
        self.assertIsNone(next(c for c in departments["cells"] if c["action"] == "transfer")["field"])  # not supported

    def test_field_section_lists_model_and_custom_fields(self):
        factories.make_custom_field(Customer, "budget", "money", label="预算")
        names = dict(module_fields("customers"))
        self.assertIn("phone", names)
        self.assertIn("collaborators", names)
        self.assertEqual(names["cf_budget"], "预算")
        self.assertNotIn("custom_fields", names)
        self.assertEqual(module_fields("roles"), [])  # not a business model
        self.login(self.role_admin)
        self.assertContains(self.client.get(self.url("add")), 'name="field__customers__cf_budget"')

    def test_create_permitted_writes_json_and_audits(self):
        self.login(self.role_admin)
        response = self.client.post(self.url("add"), self.matrix_data(**{"perm__departments__transfer": "on"}))
        self.assertEqual(response.status_code, 302, response.content[:3000])
        role = Role.objects.get(name="渠道专员")
        self.assertEqual(role.permissions, {
            "customers": {"actions": ["view", "edit"], "scope": "department"},
            "contacts": {"actions": ["view"], "scope": "own"},
        })  # the unsupported action was ignored
        self.assertEqual(role.field_permissions, {"customers": {"phone": "hidden", "owner": "read"}})
        self.assertFalse(role.is_builtin)
        change = role_changes(role, "create").get()
        self.assertEqual((change.user_id, change.source), (self.role_admin.pk, "web"))

    def test_invalid_input_is_400_and_writes_nothing(self):
        self.login(self.role_admin)
        before, changes = Role.objects.count(), ObjectChange.objects.count()
        for data, field in (
            (self.matrix_data(scope__customers="galaxy"), "scope__customers"),
            (self.matrix_data(field__customers__phone="secret"), "field__customers__phone"),
            (self.matrix_data(name=""), "name"),
            (self.matrix_data(name="销售代表"), "name"),  # duplicate
        ):
            response = self.client.post(self.url("add"), data)
            self.assertEqual(response.status_code, 400, data)
            self.assertIn(field, response.context["form"].errors)
            self.assertContains(response, f'data-error-for="{field}"', status_code=400)
        self.assertContains(response, "invalid-feedback", status_code=400)
        self.assertEqual(Role.objects.count(), before)
        self.assertEqual(ObjectChange.objects.count(), changes)

    def test_without_permission_is_403(self):
        self.login(self.director)
        self.assertEqual(self.client.get(self.url("add")).status_code, 403)
        self.assertEqual(self.client.post(self.url("add"), self.matrix_data()).status_code, 403)
        rep = Role.objects.get(code="rep")
        self.assertEqual(self.client.post(self.url("edit", rep), self.matrix_data(name="改")).status_code, 403)
        self.assertFalse(Role.objects.filter(name__in=["渠道专员", "改"]).exists())

    def test_builtin_role_can_be_edited_and_keeps_its_identity(self):
        rep = Role.objects.get(code="rep")
        self.login(self.role_admin)
        response = self.client.post(self.url("edit", rep), self.matrix_data(name="销售代表", description="改过"))
        self.assertEqual(response.status_code, 302)
        rep.refresh_from_db()
        self.assertEqual((rep.description, rep.is_builtin, rep.code), ("改过", True, "rep"))
        self.assertEqual(rep.permissions["customers"]["scope"], "department")
        self.assertTrue(role_changes(rep, "update").exists())

    def test_edit_round_trips_the_existing_matrix(self):
        finance = Role.objects.get(code="finance")
        self.login(self.role_admin)
        form = self.client.get(self.url("edit", finance)).context["form"]
        data = {name: form[name].value() for name in form.fields}
        data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (False, None)}
        self.assertEqual(self.client.post(self.url("edit", finance), data).status_code, 302)
        changed = Role.objects.get(pk=finance.pk)
        self.assertEqual(changed.permissions, finance.permissions)
        self.assertEqual(changed.field_permissions, finance.field_permissions)

    def test_only_administrators_make_administrator_roles(self):
        self.login(self.role_admin)
        self.client.post(self.url("add"), self.matrix_data(is_admin="on"))
        self.assertFalse(Role.objects.get(name="渠道专员").is_admin)  # the field is disabled for non-admins
        self.login(self.admin)
        self.client.post(self.url("add"), self.matrix_data(name="超管2", is_admin="on"))
        self.assertTrue(Role.objects.get(name="超管2").is_admin)


class TestRoleDelete(RoleViewsBase):
    def test_builtin_and_assigned_roles_are_kept(self):
        self.login(self.role_admin)
        for role in (Role.objects.get(code="finance"), self.role_admin_role):
            response = self.client.post(self.url("delete", role), follow=True)
            self.assertRedirects(response, self.url("detail", role))
            self.assertEqual(len(list(response.context["messages"])), 1)
            self.assertTrue(Role.objects.filter(pk=role.pk).exists())

    def test_delete_custom_role(self):
        role = factories.make_role("临时角色")
        self.login(self.director)
        self.assertEqual(self.client.post(self.url("delete", role)).status_code, 403)
        self.login(self.role_admin)
        self.assertEqual(self.client.post(self.url("delete", role)).status_code, 302)
        self.assertFalse(Role.objects.filter(pk=role.pk).exists())
        self.assertEqual(role_changes(role, "delete").get().user_id, self.role_admin.pk)
