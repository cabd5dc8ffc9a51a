"""Shared set-up for the pool tests: an organisation, pools, and helpers that put customers in pools."""

from __future__ import annotations

import datetime

from django.utils import timezone

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.tests import factories
from yingdan.customers.models import Customer
from yingdan.pools import services
from yingdan.pools.models import Pool, PoolSettings


def make_org(cls):
    """Attributes on `cls`: departments, users (rep1/rep2 in team_a, rep_b in region_b, manager, director,
    pool_admin, outsider without pool access, inactive), pools (default, east covering region_a)."""
    factories.ensure_defaults()
    cls.region_a = factories.make_department("华东区")
    cls.team_a = factories.make_department("上海一组", parent=cls.region_a)
    cls.region_b = factories.make_department("华南区")
    cls.rep1 = factories.make_user("rep1", ["rep"], cls.team_a, name="张伟")
    cls.rep2 = factories.make_user("rep2", ["rep"], cls.team_a, name="王芳")
    cls.rep_b = factories.make_user("rep_b", ["rep"], cls.region_b, name="李娜")
    cls.manager = factories.make_user("mgr_a", ["manager"], cls.region_a, name="刘洋")
    cls.director = factories.make_user("director", ["director"], cls.region_a, name="陈静")
    cls.pool_admin = factories.make_user("padmin", ["rep"], cls.region_a, name="赵磊")
    cls.noperm = factories.make_user("noperm", [], cls.team_a, name="孙丽")
    cls.inactive = factories.make_user("gone", ["rep"], cls.team_a, name="离职", is_active=False)
    cls.default_pool = Pool.objects.get(object_type="customer", is_default=True)
    cls.east = Pool.objects.create(name="华东公海", object_type="customer")
    cls.east.departments.set([cls.region_a])
    cls.east.admins.set([cls.pool_admin])


def pooled_customer(pool, owner, *, previous_owner=None, entered=None, **kw) -> Customer:
    """A customer sitting in `pool` (made through the factory with `owner`, then placed directly)."""
    customer = factories.make_customer(owner, **kw)
    Customer.objects.filter(pk=customer.pk).update(
        owner=None, pool=pool, pool_entered_at=entered or timezone.now() - datetime.timedelta(days=30),
        previous_owner=previous_owner,
    )
    customer.refresh_from_db()
    return customer


def release_as(actor, customers, reason="测试退回", pool=None) -> int:
    with context.change_context(user=actor, source=ChangeSource.WEB):
        return services.release(actor, Customer, [c.pk for c in customers], reason, pool=pool)


def set_company_cap(cap=None, count_won=False):
    s = PoolSettings.get()
    s.customer_hold_cap = cap
    s.count_won = count_won
    s.save()
