"""Permissions, data scopes, change log and custom-field definitions: the platform under every app."""

import pytest
from django.core.exceptions import ValidationError

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import CustomField, ObjectChange
from yingdan.core.permissions import compute
from yingdan.customers.models import Customer

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    hq = factories.make_department("总部")
    east = factories.make_department("华东", parent=hq)
    sh = factories.make_department("上海", parent=east)
    south = factories.make_department("华南", parent=hq)
    return {"hq": hq, "east": east, "sh": sh, "south": south}


def test_department_paths_follow_moves(org):
    from yingdan.org.services import save_department

    sh = org["sh"]
    assert sh.path == f"/{org['hq'].pk}/{org['east'].pk}/{sh.pk}/"
    east = org["east"]
    east.parent = org["south"]
    save_department(factories.system_actor(), east)
    sh.refresh_from_db()
    assert sh.path == f"/{org['hq'].pk}/{org['south'].pk}/{east.pk}/{sh.pk}/"
    assert sh.depth == 3


def test_department_cannot_move_under_descendant(org):
    from yingdan.org.services import save_department

    east = org["east"]
    east.parent = org["sh"]
    with pytest.raises(ValidationError) as exc:
        save_department(factories.system_actor(), east)
    assert "parent" in exc.value.message_dict


@pytest.mark.parametrize(
    "role, expected",
    [("rep", {"mine"}), ("manager", {"mine", "colleague", "sub"}), ("director", {"mine", "colleague", "sub", "south"}),
     ("finance", {"mine", "colleague", "sub", "south"})],
)
def test_scopes(org, role, expected):
    viewer = factories.make_user(f"viewer_{role}", [role], org["east"])
    colleague = factories.make_user(f"colleague_{role}", ["rep"], org["east"])
    sub = factories.make_user(f"sub_{role}", ["rep"], org["sh"])
    south = factories.make_user(f"south_{role}", ["rep"], org["south"])
    made = {
        "mine": factories.make_customer(viewer, name="mine"),
        "colleague": factories.make_customer(colleague, name="colleague"),
        "sub": factories.make_customer(sub, name="sub"),
        "south": factories.make_customer(south, name="south"),
    }
    visible = set(Customer.objects.visible_to(viewer).filter(pk__in=[c.pk for c in made.values()]).values_list("name", flat=True))
    assert visible == expected


def test_department_scope_excludes_sub_departments(org):
    role = factories.make_role("本部门", {"customers": {"actions": ["view"], "scope": "department"}})
    viewer = factories.make_user("dept_viewer", roles=[role], department=org["east"])
    factories.make_customer(factories.make_user("east_rep", ["rep"], org["east"]), name="east")
    factories.make_customer(factories.make_user("sh_rep", ["rep"], org["sh"]), name="sh")
    assert set(Customer.objects.visible_to(viewer).values_list("name", flat=True)) == {"east"}


def test_collaborator_sees_customer(org):
    owner = factories.make_user("o1", ["rep"], org["east"])
    helper = factories.make_user("h1", ["rep"], org["south"])
    customer = factories.make_customer(owner)
    assert not Customer.objects.visible_to(helper).filter(pk=customer.pk).exists()
    customer.collaborators.add(helper)
    assert Customer.objects.visible_to(helper).filter(pk=customer.pk).exists()


def test_new_role_starts_with_nothing(org):
    role = factories.make_role("新角色")
    user = factories.make_user("nobody", roles=[role], department=org["east"])
    perms = compute(user)
    assert not perms.has("customers", "view")
    assert perms.scope("customers") == "own"
    factories.make_customer(factories.make_user("x", ["rep"], org["east"]))
    assert Customer.objects.visible_to(user).count() == 0


def test_roles_merge_widest_scope_and_union_of_actions(org):
    a = factories.make_role("A", {"customers": {"actions": ["view"], "scope": "own"}}, {"customers": {"phone": "hidden"}})
    b = factories.make_role("B", {"customers": {"actions": ["export"], "scope": "department"}}, {"customers": {"phone": "read"}})
    user = factories.make_user("multi", roles=[a, b], department=org["east"])
    perms = compute(user)
    assert perms.has("customers", "view") and perms.has("customers", "export")
    assert perms.scope("customers") == "department"
    assert perms.field_access("customers", "phone") == "read"


def test_inactive_user_sees_nothing(org):
    user = factories.make_user("gone", ["director"], org["east"])
    factories.make_customer(user)
    user.is_active = False
    assert Customer.objects.visible_to(user).count() == 0


def test_change_log_outside_requests_and_append_only(org):
    owner = factories.make_user("cl", ["rep"], org["east"])
    with context.change_context(source=ChangeSource.IMPORT, request_id="job-42"):
        customer = Customer(name="导入客户", owner=owner)
        customer.sync_department()
        customer.save()
        customer.short_name = "导入"
        customer.save()
    changes = list(ObjectChange.objects.filter(object_id=customer.pk, content_type__model="customer").order_by("id"))
    assert [c.action for c in changes] == ["create", "update"]
    assert all(c.source == "import" and c.request_id == "job-42" for c in changes)
    assert changes[1].changes == {"short_name": ["", "导入"]}
    with pytest.raises(TypeError):
        changes[0].save()
    with pytest.raises(TypeError):
        changes[0].delete()
    with pytest.raises(TypeError):
        ObjectChange.objects.all().delete()
    with pytest.raises(TypeError):
        ObjectChange.objects.all().update(user_name="x")


def test_many_to_many_changes_logged(org):
    owner = factories.make_user("m2m", ["rep"], org["east"])
    customer = factories.make_customer(owner)
    customer.collaborators.add(owner)
    change = ObjectChange.objects.filter(object_id=customer.pk, content_type__model="customer", action="update").last()
    assert change.changes == {"collaborators": [[], [owner.pk]]}


@pytest.mark.parametrize(
    "ftype, kwargs, good, stored, bad",
    [
        ("integer", {"min_value": 1, "max_value": 10}, "7", 7, ["0", "11", "x", True]),
        ("money", {}, "1,234.5", "1234.50", ["abc", "1e20"]),
        ("date", {}, "2026-01-31", "2026-01-31", ["2026-02-30", "1899-01-01"]),
        ("boolean", {}, "是", True, ["maybe"]),
        ("email", {}, "A@B.CN", "a@b.cn", ["not-mail"]),
        ("url", {}, "https://example.com", "https://example.com", ["ftp//x"]),
        ("phone", {}, "138 0013 8000", "13800138000", ["123"]),
        ("text", {"regex": r"[A-Z]{2}\d+", "max_length": 6}, "AB123", "AB123", ["ab123", "AB12345"]),
        ("select", {"choices": [{"value": "a", "label": "甲"}]}, "甲", "a", ["b"]),
        ("multiselect", {"choices": [{"value": "a", "label": "甲"}, {"value": "b", "label": "乙"}]}, ["a", "b", "a"], ["a", "b"], [["c"]]),
    ],
)
def test_custom_field_validation(ftype, kwargs, good, stored, bad):
    field = CustomField(object_type="customers.customer", name="f", label="F", type=ftype, **kwargs)
    assert field.clean_value(good) == stored
    for value in bad:
        with pytest.raises(ValidationError):
            field.clean_value(value)


def test_custom_field_definition_rules(org):
    field = factories.make_custom_field(Customer, "grade", "select", choices=[{"value": "a", "label": "甲"}])
    field.type = "text"
    with pytest.raises(ValidationError):
        field.full_clean()
    field = CustomField.objects.get(pk=field.pk)
    field.choices = []
    with pytest.raises(ValidationError):
        field.full_clean()  # an option cannot be removed, only retired
    required = factories.make_custom_field(Customer, "must", "text", required=True)
    customer = Customer(name="必填测试")
    with pytest.raises(ValidationError) as exc:
        customer.validate_custom_fields({})
    assert "cf_must" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        customer.validate_custom_fields({"must": "x", "nope": 1})
    assert "cf_nope" in exc.value.message_dict
    assert required.pk


def test_unique_custom_field(org):
    owner = factories.make_user("u1", ["rep"], org["east"])
    factories.make_custom_field(Customer, "erp", "text", unique=True)
    first = factories.make_customer(owner)
    first.custom_fields = first.validate_custom_fields({"erp": "E-1"})
    first.save()
    second = factories.make_customer(owner)
    with pytest.raises(ValidationError):
        second.validate_custom_fields({"erp": "E-1"})
