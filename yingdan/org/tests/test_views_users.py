"""User pages: list (filters, sorting, paging), detail, create/edit, deactivate/activate, password, bulk."""

import itertools

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from yingdan.core.models import ObjectChange
from yingdan.core.tests import factories
from yingdan.core.tests.views_base import ViewTestCases
from yingdan.customers.models import Customer
from yingdan.org.models import ApiToken, Role

User = get_user_model()
_seq = itertools.count(1)
STRONG = "Qiming-Sales-2024!"


def user_changes(user, action=None):
    qs = ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=user.pk)
    return qs.filter(action=action) if action else qs


class UserViewsBase(ViewTestCases.Base):
    url_base = "org:user"
    module = "users"
    model = User

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        # A personnel manager for region A: may view/create/edit users of region A and below.
        cls.hr_role = factories.make_role("人事(华东)", {"users": {"actions": ["view", "create", "edit"], "scope": "department_tree"}})
        cls.hr = factories.make_user("hr_a", roles=[cls.hr_role], department=cls.region_a, name="人事甲")
        cls.rep_role = Role.objects.get(code="rep", is_builtin=True)

    def make_object(self, owner):
        n = next(_seq)
        return factories.make_user(f"member{n}", ["rep"], owner.department, name=f"组员{n}号", mobile=f"1390000{n:04d}")

    def form_data(self, **kw):
        data = {
            "username": f"new_user{next(_seq)}", "name": "赵敏", "mobile": "+86 138-0013-8123", "email": "zhao@example.com",
            "department": self.team_a.pk, "roles": [self.rep_role.pk], "title": "销售", "is_active": "on",
            "password1": STRONG, "password2": STRONG,
        }
        data.update(kw)
        return data


class TestUserListAndDetail(UserViewsBase, ViewTestCases.ListView, ViewTestCases.DetailView):
    def test_list_columns_show_department_and_role_names(self):
        member = self.make_object(self.owner)
        self.login(self.admin)
        response = self.client.get(self.url("list"))
        self.assertContains(response, member.get_absolute_url())
        self.assertContains(response, "上海一组")
        self.assertContains(response, "销售代表")

    def test_filters(self):
        member = self.make_object(self.owner)
        other = self.make_object(self.outsider)
        self.login(self.admin)
        names = lambda params: {u.pk for u in self.client.get(self.url("list"), params).context["table"].rows}  # noqa: E731
        # department only vs including sub-departments
        self.assertNotIn(member.pk, names({"department": self.region_a.pk}))
        self.assertIn(member.pk, names({"department": self.region_a.pk, "include_sub": "1"}))
        self.assertNotIn(other.pk, names({"department": self.region_a.pk, "include_sub": "1"}))
        # role, active, free text (name, username, mobile)
        self.assertIn(member.pk, names({"role": self.rep_role.pk}))
        self.assertNotIn(self.admin.pk, names({"role": self.rep_role.pk}))
        self.assertEqual(names({"q": member.mobile[-6:]}), {member.pk})
        self.assertEqual(names({"q": member.username}), {member.pk})
        self.assertEqual(names({"q": member.name}), {member.pk})
        member.is_active = False
        member.save()
        self.assertNotIn(member.pk, names({"is_active": "true"}))
        self.assertIn(member.pk, names({"is_active": "false"}))

    def test_sorting_by_department_and_paging(self):
        for _ in range(3):
            self.make_object(self.outsider)
        self.login(self.admin)
        rows = self.client.get(self.url("list"), {"sort": "department"}).context["table"].rows
        depts = [u.department.name if u.department else "" for u in rows]
        self.assertEqual(depts, sorted(depts))
        response = self.client.get(self.url("list"), {"per_page": 25, "page": 2})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["page"].number, 1)  # clamped to the last page

    def test_detail_shows_department_path_roles_and_effective_permissions(self):
        member = self.make_object(self.owner)
        self.login(self.admin)
        response = self.client.get(self.url("detail", member))
        self.assertContains(response, "华东区 / 上海一组")
        self.assertContains(response, "销售代表")
        self.assertContains(response, 'data-testid="effective-permissions"')
        rows = {r["module"].key: r for r in response.context["permission_rows"]}
        self.assertTrue(rows["customers"]["any"])
        self.assertFalse(rows["roles"]["any"])
        self.assertIn("本人", str(rows["customers"]["scope"]))
        admin_page = self.client.get(self.url("detail", self.admin))
        self.assertContains(admin_page, 'data-testid="all-permissions"')

    def test_detail_changelog_tab_lists_the_creation(self):
        member = self.make_object(self.owner)
        self.login(self.admin)
        response = self.client.get(self.url("detail", member), {"tab": "changelog"})
        self.assertEqual(len(response.context["changes"]), user_changes(member).count())
        self.assertGreater(len(response.context["changes"]), 0)


class TestUserCreateEdit(UserViewsBase):
    def test_anonymous_redirects_to_login(self):
        for url in (self.url("add"), self.url("edit", self.owner), self.url("password", self.owner)):
            response = self.client.get(url)
            self.assertEqual(response.status_code, 302)
            self.assertIn(reverse("login"), response["Location"])

    def test_create_without_permission_is_403_and_writes_nothing(self):
        before = User.objects.count()
        for user in (self.noperm, self.owner):  # reps may only view users
            self.login(user)
            self.assertEqual(self.client.get(self.url("add")).status_code, 403)
            self.assertEqual(self.client.post(self.url("add"), self.form_data()).status_code, 403)
        self.assertEqual(User.objects.count(), before)

    def test_create_permitted_writes_and_audits(self):
        self.login(self.hr)
        self.assertEqual(self.client.get(self.url("add")).status_code, 200)
        data = self.form_data(username="zhaomin")
        response = self.client.post(self.url("add"), data)
        self.assertEqual(response.status_code, 302, response.content[:3000])
        user = User.objects.get(username="zhaomin")
        self.assertEqual(user.mobile, "13800138123")  # normalised
        self.assertEqual(user.department, self.team_a)
        self.assertEqual(user.role_names, ["销售代表"])
        self.assertTrue(user.check_password(STRONG))
        change = user_changes(user, "create").get()
        self.assertEqual((change.user_id, change.source), (self.hr.pk, "web"))
        self.assertNotIn("password", change.changes)

    def test_invalid_input_is_400_with_field_messages_and_writes_nothing(self):
        self.login(self.hr)
        before, changes = User.objects.count(), ObjectChange.objects.count()
        cases = [
            ({"mobile": "12345"}, "mobile", None),
            ({"mobile": "021-62345678"}, "mobile", "mobile"),
            ({"username": self.owner.username}, "username", "unique"),
            ({"password2": "something-else-1"}, "password2", "password_mismatch"),
            ({"password1": "12345678", "password2": "12345678"}, "password1", None),
            ({"name": ""}, "name", None),
            ({"department": self.region_b.pk}, "department", None),  # outside the editor's scope
        ]
        for overrides, field, code in cases:
            response = self.client.post(self.url("add"), self.form_data(**overrides))
            self.assertEqual(response.status_code, 400, overrides)
            self.assertIn(field, response.context["form"].errors, overrides)
            self.assertContains(response, "invalid-feedback", status_code=400)
            if code:
                self.assertIn(code, [e.code for e in response.context["form"].errors.as_data()[field]])
        self.assertEqual(User.objects.count(), before)
        self.assertEqual(ObjectChange.objects.count(), changes)

    def test_duplicate_mobile_is_refused(self):
        member = self.make_object(self.owner)
        self.login(self.admin)
        response = self.client.post(self.url("add"), self.form_data(mobile=f"{member.mobile[:3]} {member.mobile[3:]}"))
        self.assertEqual(response.status_code, 400)
        self.assertEqual([e.code for e in response.context["form"].errors.as_data()["mobile"]], ["unique"])

    def test_html_in_name_is_escaped(self):
        self.login(self.admin)
        self.client.post(self.url("add"), self.form_data(username="xss", name="<b>坏</b>"))
        user = User.objects.get(username="xss")
        page = self.client.get(self.url("detail", user)).content.decode()
        self.assertNotIn("<b>坏</b>", page)
        self.assertIn("&lt;b&gt;坏&lt;/b&gt;", page)

    def test_edit_permitted_and_audited(self):
        member = self.make_object(self.owner)
        self.login(self.hr)
        self.assertEqual(self.client.get(self.url("edit", member)).status_code, 200)
        data = self.form_data(username=member.username, mobile=member.mobile, title="高级销售")
        del data["password1"], data["password2"]
        response = self.client.post(self.url("edit", member), data)
        self.assertEqual(response.status_code, 302, response.content[:3000])
        member.refresh_from_db()
        self.assertEqual(member.title, "高级销售")
        change = user_changes(member, "update").latest("time")
        self.assertEqual(change.user_id, self.hr.pk)
        self.assertIn("title", change.changes)

    def test_edit_out_of_scope_is_404(self):
        member = self.make_object(self.outsider)  # region B
        self.login(self.hr)  # region A only
        self.assertEqual(self.client.get(self.url("detail", member)).status_code, 404)
        self.assertEqual(self.client.get(self.url("edit", member)).status_code, 404)
        data = self.form_data(username=member.username, title="被改")
        self.assertEqual(self.client.post(self.url("edit", member), data).status_code, 404)
        member.refresh_from_db()
        self.assertNotEqual(member.title, "被改")

    def test_unchecking_active_on_the_form_deactivates_through_the_service(self):
        member = self.make_object(self.owner)
        token, _key = ApiToken.issue(member)
        self.login(self.hr)
        data = self.form_data(username=member.username, mobile=member.mobile)
        del data["password1"], data["password2"], data["is_active"]
        self.assertEqual(self.client.post(self.url("edit", member), data).status_code, 302)
        member.refresh_from_db()
        token.refresh_from_db()
        self.assertFalse(member.is_active)
        self.assertIsNotNone(member.deactivated_at)
        self.assertIsNotNone(token.revoked_at)

    def test_cannot_deactivate_yourself_through_the_form(self):
        self.login(self.hr)
        data = self.form_data(username=self.hr.username, department=self.region_a.pk, roles=[self.hr_role.pk], title="人事")
        del data["password1"], data["password2"], data["is_active"]
        response = self.client.post(self.url("edit", self.hr), data)
        self.assertEqual(response.status_code, 400)
        self.assertIn("is_active", response.context["form"].errors)
        self.hr.refresh_from_db()
        self.assertTrue(self.hr.is_active)
        self.assertNotEqual(self.hr.title, "人事")  # the whole edit was rolled back

    def test_non_admin_cannot_edit_or_grant_administrators(self):
        admin_role = Role.objects.get(code="admin")
        self.login(self.hr)
        response = self.client.post(self.url("add"), self.form_data(roles=[admin_role.pk]))
        self.assertEqual(response.status_code, 400)
        self.assertIn("roles", response.context["form"].errors)
        admin_in_scope = factories.make_user("admin_a2", ["admin"], self.team_a)
        data = self.form_data(username=admin_in_scope.username, roles=[])
        del data["password1"], data["password2"]
        response = self.client.post(self.url("edit", admin_in_scope), data)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(admin_in_scope.roles.values_list("code", flat=True)), ["admin"])
        response = self.client.post(self.url("password", admin_in_scope), {"new_password1": STRONG, "new_password2": STRONG})
        self.assertEqual(response.status_code, 400)
        admin_in_scope.refresh_from_db()
        self.assertFalse(admin_in_scope.check_password(STRONG))


class TestUserDeactivation(UserViewsBase):
    def test_anonymous_and_forbidden(self):
        member = self.make_object(self.owner)
        response = self.client.post(self.url("deactivate", member))
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])
        self.login(self.owner)  # reps may view but not edit users
        self.assertEqual(self.client.get(self.url("deactivate", member)).status_code, 403)
        self.assertEqual(self.client.post(self.url("deactivate", member)).status_code, 403)
        member.refresh_from_db()
        self.assertTrue(member.is_active)

    def test_out_of_scope_is_404(self):
        member = self.make_object(self.outsider)
        self.login(self.hr)
        self.assertEqual(self.client.post(self.url("deactivate", member)).status_code, 404)
        member.refresh_from_db()
        self.assertTrue(member.is_active)

    def test_deactivate_keeps_customers_and_activate_restores(self):
        member = self.make_object(self.owner)
        customer = factories.make_customer(member)
        self.login(self.hr)
        page = self.client.get(self.url("deactivate", member))
        self.assertContains(page, 'data-testid="handover-hint"')
        self.assertIn((Customer._meta.verbose_name_plural, 1), page.context["owned"])
        response = self.client.post(self.url("deactivate", member))
        self.assertRedirects(response, self.url("detail", member))
        member.refresh_from_db()
        self.assertFalse(member.is_active)
        self.assertIsNotNone(member.deactivated_at)
        customer.refresh_from_db()  # still exists, still theirs
        self.assertEqual(customer.owner_id, member.pk)
        self.assertTrue(User.objects.filter(pk=member.pk).exists())
        self.assertTrue(user_changes(member, "update").filter(user=self.hr).exists())
        self.assertEqual(self.client.post(self.url("activate", member)).status_code, 302)
        member.refresh_from_db()
        self.assertTrue(member.is_active)
        self.assertIsNone(member.deactivated_at)

    def test_cannot_deactivate_yourself(self):
        self.login(self.hr)
        response = self.client.post(self.url("deactivate", self.hr))
        self.assertEqual(response.status_code, 400)
        self.hr.refresh_from_db()
        self.assertTrue(self.hr.is_active)


class TestUserPassword(UserViewsBase):
    def test_admin_sets_a_new_password(self):
        member = self.make_object(self.owner)
        self.login(self.hr)
        self.assertEqual(self.client.get(self.url("password", member)).status_code, 200)
        response = self.client.post(self.url("password", member), {"new_password1": STRONG, "new_password2": STRONG})
        self.assertEqual(response.status_code, 302)
        member.refresh_from_db()
        self.assertTrue(member.check_password(STRONG))

    def test_weak_or_mismatched_password_is_400(self):
        member = self.make_object(self.owner)
        self.login(self.hr)
        for p1, p2 in (("12345678", "12345678"), ("short", "short"), (STRONG, STRONG + "x"), (member.username + "1", member.username + "1")):
            response = self.client.post(self.url("password", member), {"new_password1": p1, "new_password2": p2})
            self.assertEqual(response.status_code, 400, p1)
            self.assertIn("new_password2", response.context["form"].errors)
        member.refresh_from_db()
        self.assertTrue(member.check_password(factories.PASSWORD))

    def test_forbidden_and_out_of_scope(self):
        member = self.make_object(self.owner)
        self.login(self.owner)
        self.assertEqual(self.client.post(self.url("password", member), {"new_password1": STRONG, "new_password2": STRONG}).status_code, 403)
        other = self.make_object(self.outsider)
        self.login(self.hr)
        self.assertEqual(self.client.post(self.url("password", other), {"new_password1": STRONG, "new_password2": STRONG}).status_code, 404)
        other.refresh_from_db()
        self.assertFalse(other.check_password(STRONG))

    def test_own_password_keeps_the_session(self):
        self.login(self.hr)
        self.client.post(self.url("password", self.hr), {"new_password1": STRONG, "new_password2": STRONG})
        self.assertEqual(self.client.get(self.url("list")).status_code, 200)


class TestUserBulk(UserViewsBase):
    def test_bulk_set_department_add_role_and_deactivate(self):
        a, b = self.make_object(self.owner), self.make_object(self.owner)
        theirs = self.make_object(self.outsider)
        finance = Role.objects.get(code="finance")
        self.login(self.hr)
        pks = [a.pk, b.pk, theirs.pk]
        response = self.client.post(reverse("org:user_bulk_department"), {"pk": pks})
        self.assertEqual(response.status_code, 200)  # the form first
        self.assertEqual(len(response.context["objects"]), 2)  # out-of-scope rows are not even listed
        response = self.client.post(reverse("org:user_bulk_department"), {"pk": pks, "department": self.region_a.pk, "_apply": "1"})
        self.assertEqual(response.status_code, 302)
        self.client.post(reverse("org:user_bulk_role"), {"pk": pks, "role": finance.pk, "_apply": "1"})
        self.client.post(reverse("org:user_bulk_deactivate"), {"pk": pks, "_apply": "1"})
        for user in (a, b):
            user.refresh_from_db()
            self.assertEqual(user.department, self.region_a)
            self.assertEqual(sorted(user.role_names), sorted(["销售代表", "财务"]))
            self.assertFalse(user.is_active)
        theirs.refresh_from_db()
        self.assertEqual((theirs.department, theirs.role_names, theirs.is_active), (self.region_b, ["销售代表"], True))

    def test_bulk_without_permission_is_403(self):
        a = self.make_object(self.owner)
        self.login(self.owner)
        self.assertEqual(self.client.post(reverse("org:user_bulk_deactivate"), {"pk": [a.pk], "_apply": "1"}).status_code, 403)
        a.refresh_from_db()
        self.assertTrue(a.is_active)

    def test_bulk_deactivate_including_yourself_changes_nothing(self):
        a = self.make_object(self.owner)
        self.login(self.hr)
        self.client.post(reverse("org:user_bulk_deactivate"), {"pk": [a.pk, self.hr.pk], "_apply": "1"})
        a.refresh_from_db()
        self.assertTrue(a.is_active)


class TestUserInlineValidation(UserViewsBase):
    def test_inline_validation_returns_the_field_and_saves_nothing(self):
        self.login(self.hr)
        before = User.objects.count()
        response = self.client.post(self.url("add"), self.form_data(mobile="12345", _validate="mobile"), HTTP_HX_REQUEST="true")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="field-mobile"')
        self.assertContains(response, 'data-error-for="mobile"')
        self.assertEqual(User.objects.count(), before)
