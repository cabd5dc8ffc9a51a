"""Customers and contacts through /api/v1/: the generic checks plus the customer-specific rules."""

import pytest

from yingdan.core.models import Lookup
from yingdan.core.tests.api_base import APIViewTestCase
from yingdan.core.tests.factories import make_contact, make_customer, valid_credit_code
from yingdan.customers.models import Contact, Customer


class TestCustomerAPI(APIViewTestCase):
    model = Customer
    basename = "customer"
    module = "customers"
    scope = "own"

    def permitted_permissions(self):
        # A sales rep: everything but 'transfer' on own customers.
        return {"customers": {"actions": ["view", "create", "edit", "delete"], "scope": "own"}}

    def setup_env(self, env):
        env.level = Lookup.objects.filter(kind="customer_level", is_active=True).first()

    def make_visible(self, env):
        return make_customer(env.user, name="腾讯科技")

    def make_hidden(self, env):
        return make_customer(env.other, name="阿里巴巴")

    def create_payload(self, env):
        return {
            "name": "北京字节跳动科技有限公司", "credit_code": valid_credit_code(), "phone": "13800138000",
            "level": env.level.pk, "province": "北京", "city": "北京",
        }

    def update_payload(self, env):
        return {"short_name": "腾讯", "phone": "010-12345678", "remarks": "重要客户"}

    def invalid_payloads(self, env):
        code = valid_credit_code()
        bad_code = code[:-1] + ("0" if code[-1] != "0" else "1")
        return [
            ({"name": "好公司", "credit_code": bad_code}, "credit_code"),
            ({"name": "好公司", "phone": "12345"}, "phone"),
            ({"name": "长" * 201}, "name"),
            ({"name": ""}, "name"),
            ({"short_name": "缺少名称"}, "name"),
            ({"name": "好公司", "level": 999999}, "level"),
            ({"name": "好公司", "owner": env.other.pk}, "owner"),
            ({"name": "好公司", "website": "not a url"}, "website"),
            ({"name": "好公司", "custom_fields": {"nope": 1}}, "custom_fields.nope"),
            ({"name": "好公司", "custom_fields": "x"}, "custom_fields"),
        ]


class TestContactAPI(APIViewTestCase):
    model = Contact
    basename = "contact"
    module = "contacts"
    scope = "own"
    extra_permissions = {"customers": {"actions": ["view"], "scope": "own"}}

    def setup_env(self, env):
        env.customer = make_customer(env.user, name="华为技术")
        env.other_customer = make_customer(env.other, name="中兴通讯")

    def make_visible(self, env):
        return make_contact(env.customer, name="张伟")

    def make_hidden(self, env):
        return make_contact(env.other_customer, name="李娜")

    def create_payload(self, env):
        return {"name": "王芳", "customer": env.customer.pk, "mobile": "13912345678", "email": "wf@example.com"}

    def update_payload(self, env):
        return {"title": "采购经理", "is_primary": True, "birthday": None}

    def invalid_payloads(self, env):
        return [
            ({"name": "王芳", "customer": env.customer.pk, "mobile": "139-1234-abcd"}, "mobile"),
            ({"name": "王芳", "customer": env.customer.pk, "email": "not-an-email"}, "email"),
            ({"name": "王芳", "customer": env.other_customer.pk}, "customer"),  # out of scope: "unknown id"
            ({"name": "王芳", "customer": 999999}, "customer"),
            ({"name": "王芳"}, "customer"),
            ({"name": "王芳", "customer": env.customer.pk, "birthday": "1990-13-45"}, "birthday"),
        ]


@pytest.mark.django_db
def test_contact_for_out_of_scope_customer_message_matches_unknown_id(db):
    """Out of scope and non-existent give the same message, so a customer's existence does not leak."""
    from yingdan.core.tests.api_base import api_client
    from yingdan.core.tests.factories import make_department, make_role, make_user

    d = make_department("部门")
    role = make_role("r", {"contacts": {"actions": ["view", "create"], "scope": "own"}, "customers": {"actions": ["view"], "scope": "own"}})
    user = make_user("u1", department=d, roles=[role])
    other = make_user("u2", department=d, roles=[role])
    hidden = make_customer(other)
    client = api_client(user)
    r1 = client.post("/api/v1/contacts/", {"name": "甲", "customer": hidden.pk}, format="json").json()
    r2 = client.post("/api/v1/contacts/", {"name": "甲", "customer": 10**9}, format="json").json()
    assert r1["error"]["fields"]["customer"][0].replace(str(hidden.pk), "N") == r2["error"]["fields"]["customer"][0].replace(str(10**9), "N")
