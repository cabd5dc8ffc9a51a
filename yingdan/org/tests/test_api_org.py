"""Users, departments and roles through /api/v1/: the generic checks plus their own rules."""

from yingdan.core.tests.api_base import APIViewTestCase, api_client, assert_error
from yingdan.core.tests.factories import make_customer, make_department, make_role, make_user
from yingdan.customers.models import Customer
from yingdan.org.models import Department, Role, User


class TestUserAPI(APIViewTestCase):
    model = User
    basename = "user"
    module = "users"
    scope = "department"
    admin_writes = True
    deletable = False  # users are deactivated, never deleted

    def make_visible(self, env):
        return make_user("colleague", department=env.d1, name="同事")

    def make_hidden(self, env):
        return make_user("stranger", department=env.d2, name="外人")

    def create_payload(self, env):
        rep = Role.objects.get(code="rep")
        return {
            "username": "newrep", "name": "新销售", "mobile": "13700001111", "department": env.d1.pk,
            "roles": [rep.pk], "password": "Long-enough-pass-42",
        }

    def update_payload(self, env):
        return {"name": "改名", "title": "大客户经理", "department": env.d2.pk}

    def invalid_payloads(self, env):
        return [
            ({"username": "x1", "department": 999999}, "department"),
            ({"username": "x2", "mobile": "12345"}, "mobile"),
            ({"username": "x3", "mobile": "010-12345678"}, "mobile"),  # a landline is not a mobile
            ({"username": "permitted"}, "username"),
            ({"username": "x4", "password": "123"}, "password"),
            ({"username": "x5", "roles": [999999]}, "roles"),
            ({"username": "x6", "name": "名" * 51}, "name"),
        ]

    def test_password_is_set_and_never_returned(self, env):
        client = api_client(env.admin)
        response = client.post(self.list_url(), self.create_payload(env), format="json")
        assert response.status_code == 201
        assert "password" not in response.json()
        user = User.objects.get(username="newrep")
        assert user.check_password("Long-enough-pass-42")
        for body in (client.get(self.list_url()).content, client.get(self.detail_url(user)).content):
            assert b"password" not in body and user.password.encode() not in body

    def test_shows_department_and_role_names(self, env):
        rep = make_user("rep1", ["rep"], department=env.d1)
        body = api_client(env.admin).get(self.detail_url(rep)).json()
        assert body["department"]["name"] == "销售一部"
        assert [r["name"] for r in body["roles"]] == ["销售代表"]

    def test_non_admin_with_users_edit_cannot_write(self, env):
        role = make_role("人事", {"users": {"actions": ["view", "create", "edit"], "scope": "all"}})
        hr = make_user("hr", department=env.d1, roles=[role])
        client = api_client(hr)
        assert_error(client.patch(self.detail_url(env.visible), {"name": "x"}, format="json"), 403)
        assert_error(client.post(self.list_url(), self.create_payload(env), format="json"), 403)

    def test_deactivate_keeps_data_and_revokes_login(self, env):
        customer = make_customer(env.visible)
        client = api_client(env.admin)
        response = client.post(f"{self.detail_url(env.visible)}deactivate/")
        assert response.status_code == 200, response.data
        assert response.json()["is_active"] is False
        env.visible.refresh_from_db()
        assert not env.visible.is_active and env.visible.deactivated_at is not None
        assert Customer.objects.filter(pk=customer.pk, owner=env.visible).exists()
        assert client.post(f"{self.detail_url(env.visible)}activate/").json()["is_active"] is True

    def test_cannot_deactivate_yourself(self, env):
        response = api_client(env.admin).post(f"{self.detail_url(env.admin)}deactivate/")
        assert_error(response, 400)
        env.admin.refresh_from_db()
        assert env.admin.is_active

    def test_deactivate_needs_admin_and_a_visible_user(self, env):
        # A non-admin is refused before any lookup (403, nothing leaks); an unknown id is 404.
        assert_error(api_client(env.user).post(f"{self.detail_url(env.hidden)}deactivate/"), 403)
        assert_error(api_client(env.admin).post("/api/v1/users/999999/deactivate/"), 404)

    def test_me(self, env):
        body = api_client(env.user).get("/api/v1/me/").json()
        assert body["username"] == "permitted"
        assert body["is_admin"] is False
        assert body["permissions"]["users"]["actions"] == ["view", "create", "edit", "delete", "import", "export"]
        assert body["permissions"]["users"]["scope"] == "department"
        assert body["permissions"]["customers"]["actions"] == []
        assert "password" not in body
        assert api_client(env.admin).get("/api/v1/me/").json()["is_admin"] is True
        assert_error(api_client().get("/api/v1/me/"), 401)


class TestDepartmentAPI(APIViewTestCase):
    model = Department
    basename = "department"
    module = "departments"
    scope = "department_tree"
    extra_permissions = {"users": {"actions": ["view"], "scope": "department"}}  # to choose a manager

    def setup_env(self, env):
        env.team = make_department("华北组", parent=env.d1)

    def make_visible(self, env):
        return make_department(f"小组{Department.objects.count()}", parent=env.team)

    def make_hidden(self, env):
        return make_department("华南组", parent=env.d2)

    def create_payload(self, env):
        return {"name": "新团队", "parent": env.d1.pk, "manager": env.user.pk, "order": 5}

    def update_payload(self, env):
        return {"name": "改名小组", "order": 7}

    def invalid_payloads(self, env):
        return [
            ({"name": "孤儿", "parent": 999999}, "parent"),
            ({"name": "越权", "parent": env.d2.pk}, "parent"),  # outside the user's scope: same as unknown
            ({"name": ""}, "name"),
            ({"name": "长" * 101}, "name"),
            ({"name": "华北组", "parent": env.d1.pk}, "non_field_errors"),  # duplicate name under the same parent
            ({"name": "经理不存在", "manager": 999999}, "manager"),
        ]

    def test_tree_fields(self, env):
        body = api_client(env.user).get(self.detail_url(env.team)).json()
        assert body["parent"]["id"] == env.d1.pk and body["parent"]["name"] == "销售一部"
        assert body["path"] == f"/{env.d1.pk}/{env.team.pk}/"
        assert body["depth"] == 1

    def test_cannot_move_under_own_descendant(self, env):
        leaf = make_department("叶子", parent=env.team)
        client = api_client(env.admin)
        before = Department.objects.get(pk=env.team.pk).path
        assert_error(client.patch(self.detail_url(env.team), {"parent": leaf.pk}, format="json"), 400, field="parent")
        assert_error(client.patch(self.detail_url(env.team), {"parent": env.team.pk}, format="json"), 400, field="parent")
        assert Department.objects.get(pk=env.team.pk).path == before

    def test_move_updates_paths_of_the_subtree(self, env):
        leaf = make_department("叶子", parent=env.team)
        response = api_client(env.admin).patch(self.detail_url(env.team), {"parent": env.d2.pk}, format="json")
        assert response.status_code == 200, response.data
        assert response.json()["path"] == f"/{env.d2.pk}/{env.team.pk}/"
        leaf.refresh_from_db()
        assert leaf.path == f"/{env.d2.pk}/{env.team.pk}/{leaf.pk}/" and leaf.depth == 2

    def test_department_with_members_is_not_deleted(self, env):
        make_user("member", department=env.team)
        assert_error(api_client(env.admin).delete(self.detail_url(env.team)), 400)
        assert Department.objects.filter(pk=env.team.pk).exists()


class TestRoleAPI(APIViewTestCase):
    model = Role
    basename = "role"
    module = "roles"
    scope = "all"

    def make_visible(self, env):
        return make_role(f"角色{Role.objects.count()}", {"customers": {"actions": ["view"], "scope": "own"}})

    def make_hidden(self, env):
        return None  # roles have no row-level scope: a user sees all roles or none

    def create_payload(self, env):
        return {
            "name": "客服", "description": "Customer service",
            "permissions": {"customers": {"actions": ["view", "edit"], "scope": "department"}},
            "field_permissions": {"customers": {"phone": "read", "cf_budget": "hidden"}},
        }

    def update_payload(self, env):
        return {"description": "改过", "permissions": {"contacts": {"actions": ["view"], "scope": "all"}}}

    def invalid_payloads(self, env):
        return [
            ({"name": "坏1", "permissions": {"no_such_module": {"actions": ["view"], "scope": "own"}}}, "permissions"),
            ({"name": "坏2", "permissions": {"customers": {"actions": ["fly"], "scope": "own"}}}, "permissions"),
            ({"name": "坏3", "permissions": {"customers": {"actions": ["view"], "scope": "galaxy"}}}, "permissions"),
            ({"name": "坏4", "permissions": {"customers": ["view"]}}, "permissions"),
            ({"name": "坏5", "field_permissions": {"customers": {"phone": "secret"}}}, "field_permissions"),
            ({"name": "坏6", "field_permissions": {"nope": {"phone": "read"}}}, "field_permissions"),
            ({"name": "销售代表"}, "name"),  # names are unique
            ({"name": ""}, "name"),
        ]

    def test_builtin_role_cannot_be_deleted_nor_recoded(self, env):
        rep = Role.objects.get(code="rep")
        client = api_client(env.admin)
        assert_error(client.delete(self.detail_url(rep)), 400)
        assert_error(client.patch(self.detail_url(rep), {"code": "x"}, format="json"), 400, field="code")
        assert Role.objects.filter(pk=rep.pk, code="rep").exists()

    def test_only_admins_create_admin_roles(self, env):
        before = Role.objects.count()
        response = api_client(env.user).post(self.list_url(), {"name": "超管", "is_admin": True}, format="json")
        assert_error(response, 400, field="is_admin")
        assert Role.objects.count() == before

    def test_role_in_use_is_not_deleted(self, env):
        assert_error(api_client(env.admin).delete(self.detail_url(env.role)), 400)
        assert Role.objects.filter(pk=env.role.pk).exists()

