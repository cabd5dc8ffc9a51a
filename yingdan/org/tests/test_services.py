"""org.services: the rules every path (web, API, commands) shares."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase

from yingdan.core.tests import factories
from yingdan.customers.models import Customer
from yingdan.org import services
from yingdan.org.models import ApiToken, Department, Role, User


class OrgServicesTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.hq = factories.make_department("总部")
        cls.east = factories.make_department("华东区", parent=cls.hq)
        cls.team = factories.make_department("上海一组", parent=cls.east)
        cls.admin = factories.make_user("admin_s", ["admin"], cls.hq)
        cls.hr_role = factories.make_role("人事", {"users": {"actions": ["view", "create", "edit"], "scope": "all"},
                                                  "roles": {"actions": ["view", "create", "edit", "delete"], "scope": "all"}})
        cls.hr = factories.make_user("hr_s", roles=[cls.hr_role], department=cls.hq)
        cls.rep = factories.make_user("rep_s", ["rep"], cls.team)

    def test_deactivate_keeps_owned_records_and_revokes_tokens(self):
        customer = factories.make_customer(self.rep)
        token, _key = ApiToken.issue(self.rep)
        services.deactivate_user(self.hr, self.rep)
        self.rep.refresh_from_db()
        self.assertFalse(self.rep.is_active)
        self.assertTrue(Customer.objects.filter(pk=customer.pk, owner=self.rep).exists())
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked_at)
        services.activate_user(self.hr, self.rep)
        self.rep.refresh_from_db()
        self.assertTrue(self.rep.is_active)

    def test_deactivate_needs_edit_permission_and_not_yourself(self):
        with self.assertRaises(PermissionDenied):
            services.deactivate_user(self.rep, self.hr)
        with self.assertRaises(ValidationError):
            services.deactivate_user(self.hr, self.hr)

    def test_only_administrators_touch_administrator_accounts(self):
        for call in (
            lambda: services.save_user(self.hr, self.admin, password="Another-pass-2024!"),
            lambda: services.deactivate_user(self.hr, self.admin),
            lambda: services.save_user(self.hr, self.rep, roles=[Role.objects.get(code="admin")]),
        ):
            with self.assertRaises(ValidationError):
                call()
        self.admin.refresh_from_db()
        self.assertTrue(self.admin.is_active)
        self.assertFalse(self.admin.check_password("Another-pass-2024!"))
        self.assertEqual(self.rep.role_names, ["销售代表"])
        # an administrator may
        services.save_user(self.admin, self.rep, roles=[Role.objects.get(code="admin")])
        self.assertEqual(User.objects.get(pk=self.rep.pk).role_names, ["系统管理员"])

    def test_department_cannot_move_under_its_descendant(self):
        for parent in (self.team, self.east):
            self.east.parent = parent
            with self.assertRaises(ValidationError) as ctx:
                services.save_department(self.admin, self.east)
            self.assertIn("parent", ctx.exception.message_dict)
        self.east.refresh_from_db()
        self.assertEqual(self.east.parent, self.hq)

    def test_moving_a_department_rewrites_the_subtree_paths(self):
        other = factories.make_department("华南区", parent=self.hq)
        self.east.parent = other
        services.save_department(self.admin, self.east)
        self.team.refresh_from_db()
        self.assertEqual(self.team.path, f"/{self.hq.pk}/{other.pk}/{self.east.pk}/{self.team.pk}/")
        self.assertEqual(self.team.depth, 3)

    def test_department_delete_refused_with_children_or_members(self):
        for dept in (self.east, self.team):
            with self.assertRaises(ValidationError):
                services.delete_department(self.admin, dept)
        empty = factories.make_department("空", parent=self.team)
        services.delete_department(self.admin, empty)
        self.assertFalse(Department.objects.filter(pk=empty.pk).exists())

    def test_role_validation(self):
        bad = [
            ({"nosuchmodule": {"actions": ["view"], "scope": "own"}}, {}),
            ({"customers": {"actions": ["fly"], "scope": "own"}}, {}),
            ({"departments": {"actions": ["transfer"], "scope": "own"}}, {}),
            ({"customers": {"actions": ["view"], "scope": "galaxy"}}, {}),
            ({}, {"customers": {"phone": "secret"}}),
            ([], {}),
        ]
        for permissions, field_permissions in bad:
            with self.assertRaises(ValidationError):
                services.validate_role_permissions(permissions, field_permissions)
        services.validate_role_permissions({"customers": {"actions": ["view"], "scope": "all"}}, {"customers": {"phone": "hidden"}})

    def test_builtin_and_assigned_roles_are_not_deleted(self):
        with self.assertRaises(ValidationError):
            services.delete_role(self.admin, Role.objects.get(code="finance"))
        with self.assertRaises(ValidationError):
            services.delete_role(self.admin, self.hr_role)
        with self.assertRaises(ValidationError):
            services.save_role(self.hr, Role(name="偷偷超管", is_admin=True))
        self.assertFalse(Role.objects.filter(name="偷偷超管").exists())
