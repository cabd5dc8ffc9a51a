"""Test data helpers. Organisation objects are created through the real org.services (by an in-memory
superuser, so no extra user row appears); customers and contacts are validated with full_clean and saved
directly, so a test can place them with any owner regardless of that owner's permissions."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import CustomField
from yingdan.core.validators import CREDIT_CODE_CHARS, credit_code_check_char
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, Role
from yingdan.org.services import save_department, save_role, save_user

PASSWORD = "Yingdan-test-2024!"
_seq = itertools.count(1)


def system_actor():
    """A superuser that exists only in memory: enough for the services' permission checks."""
    return get_user_model()(username="factory", is_superuser=True, is_active=True)


def make_department(name: str, parent=None, **kw):
    with context.change_context(source=ChangeSource.SYSTEM):
        return save_department(system_actor(), Department(name=name, parent=parent, **kw))


def make_role(name: str, permissions: dict | None = None, field_permissions: dict | None = None, **kw):
    role = Role(name=name, permissions=permissions or {}, field_permissions=field_permissions or {}, **kw)
    with context.change_context(source=ChangeSource.SYSTEM):
        return save_role(system_actor(), role)


def make_user(username: str, role_codes=(), department=None, *, roles=(), password: str = PASSWORD, **kw):
    """A user with the built-in roles `role_codes` (admin/director/manager/rep/finance) and/or `roles`."""
    ensure_defaults()
    all_roles = list(Role.objects.filter(code__in=list(role_codes), is_builtin=True)) + list(roles)
    missing = set(role_codes) - {r.code for r in all_roles}
    assert not missing, f"unknown built-in role codes: {missing}"
    user = get_user_model()(username=username, department=department, **kw)
    with context.change_context(source=ChangeSource.SYSTEM):
        return save_user(system_actor(), user, roles=all_roles, password=password)


def ensure_defaults() -> None:
    """Data the migrations create (built-in roles, default lists). Transactional tests (live_server, browser)
    flush the database afterwards, so a later test on the same worker must put it back."""
    from yingdan.core import registry
    from yingdan.core.models import Lookup
    from yingdan.customers.defaults import ensure_default_lookups
    from yingdan.org.builtin import ensure_builtin_roles
    from yingdan.org.models import Role

    ensure_builtin_roles(Role)
    ensure_default_lookups(Lookup)
    for loader in registry.default_data_loaders:
        loader()


def valid_credit_code(n: int | None = None) -> str:
    """A syntactically valid 统一社会信用代码 (correct check character), unique per call."""
    n = next(_seq) if n is None else n
    body = "91110108" + "".join(CREDIT_CODE_CHARS[(n // 31**i) % 31] for i in range(9))[::-1]
    return body + credit_code_check_char(body)


def make_customer(owner, **kw):
    kw.setdefault("name", f"测试客户{next(_seq)}")
    customer = Customer(owner=owner, created_by=owner, **kw)
    customer.sync_department()
    customer.full_clean()
    with context.change_context(user=owner, source=ChangeSource.SYSTEM):
        customer.save()
    return customer


def make_contact(customer, **kw):
    kw.setdefault("name", f"联系人{next(_seq)}")
    contact = Contact(customer=customer, created_by=customer.owner, **kw)
    contact.full_clean()
    with context.change_context(user=customer.owner, source=ChangeSource.SYSTEM):
        contact.save()
    return contact


def make_custom_field(model, name: str, type: str = "text", **kw):
    kw.setdefault("label", name)
    field = CustomField(object_type=model._meta.label_lower, name=name, type=type, **kw)
    field.full_clean()
    field.save()
    return field
