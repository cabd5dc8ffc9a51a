"""Test data for handover tests: a leaving rep with customers (contacts, a follow-up plan) and leads."""

from __future__ import annotations

import datetime
import itertools
from types import SimpleNamespace

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.tests.factories import make_contact, make_customer, make_department, make_role, make_user
from yingdan.leads.models import Lead
from yingdan.pools.models import Pool

_seq = itertools.count(1)


def make_lead(owner, **kw):
    kw.setdefault("name", f"交接线索{next(_seq)}")
    lead = Lead(owner=owner, created_by=owner, **kw)
    lead.sync_department()
    lead.full_clean()
    with context.change_context(user=owner, source=ChangeSource.SYSTEM):
        lead.save()
    return lead


def build_env(customers: int = 5, leads: int = 3) -> SimpleNamespace:
    env = SimpleNamespace()
    env.d1 = make_department("销售一部")
    env.d2 = make_department("销售二部")
    env.admin = make_user("hr_admin", ["admin"], env.d1, name="管理员")
    env.leaving = make_user("leaving", ["rep"], env.d1, name="离职者")
    env.b = make_user("succ_b", ["rep"], env.d1, name="接手甲")
    env.c = make_user("succ_c", ["rep"], env.d2, name="接手乙")
    env.inactive = make_user("gone", ["rep"], env.d1, name="已停用", is_active=False)
    env.viewer = make_user("viewer", ["rep"], env.d1, name="只读")  # users: view only
    env.hr = make_user("hr_editor", [], env.d1, name="人事", roles=[make_role("人事", {
        "users": {"actions": ["view", "edit"], "scope": "all"},
        "customers": {"actions": ["view", "edit", "transfer"], "scope": "all"},
        "leads": {"actions": ["view", "edit", "transfer"], "scope": "all"},
    })])
    env.customers = [make_customer(env.leaving) for _ in range(customers)]
    env.contacts = [make_contact(c) for c in env.customers]
    if env.customers:
        first = env.customers[0]
        first.next_followup_at = datetime.date.today() + datetime.timedelta(days=3)
        first.save(update_fields=["next_followup_at"])
    env.leads = [make_lead(env.leaving) for _ in range(leads)]
    env.other_customer = make_customer(env.b)  # not the leaving user's: never touched
    return env


def make_default_pools():
    """The default pools (the pools app's data migration may already have made them)."""
    out = []
    for object_type, name in (("customer", "客户公海"), ("lead", "线索公海")):
        pool = Pool.objects.filter(object_type=object_type, is_default=True, is_active=True).order_by("id").first()
        out.append(pool or Pool.objects.create(name=name, object_type=object_type, is_default=True))
    return out
