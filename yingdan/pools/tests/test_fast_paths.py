"""The fast paths of the pool services give the same results as the plain ORM ones: the multi-row change-log and
pool-event inserts (no model instances), and a claim without caps (no user lock) against one with caps."""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.test import TestCase
from django.utils import timezone

from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import ObjectChange
from yingdan.customers.models import Customer
from yingdan.leads.models import Lead
from yingdan.pools import services
from yingdan.pools.models import Pool, PoolEvent, PoolEventKind

from .base import make_org, pooled_customer


class LogRowsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_log_writes_what_bulk_create_would(self):
        rows = [
            {"id": 10_001, "owner_id": self.rep1.pk, "department_id": self.team_a.pk, "pool_id": None, "name": "甲公司"},
            {"id": 10_002, "owner_id": None, "department_id": None, "pool_id": None, "name": "x" * 250},
        ]
        at = timezone.now() - datetime.timedelta(minutes=5)
        before = timezone.now()
        with context.change_context(user=self.manager, source=ChangeSource.WEB, request_id="req-1"):
            services._log(Customer, rows, lambda r: {"owner": [r["owner_id"], None], "pool": [None, self.east.pk]},
                          kind=PoolEventKind.RELEASE, pool_id=self.east.pk, to_owner_id=None, reason="理由" * 300,
                          at=at, actor=self.director)
        ct = ContentType.objects.get_for_model(Customer)
        changes = list(ObjectChange.objects.filter(content_type=ct, object_id__in=[10_001, 10_002]).order_by("object_id"))
        assert [c.object_id for c in changes] == [10_001, 10_002]
        for change, row in zip(changes, rows, strict=True):
            assert change.user_id == self.manager.pk and change.user_name == self.manager.get_username()
            assert change.source == ChangeSource.WEB and change.request_id == "req-1" and change.action == "update"
            assert change.changes == {"owner": [row["owner_id"], None], "pool": [None, self.east.pk]}
            assert before <= change.time <= timezone.now()
        assert changes[0].object_repr == "甲公司" and changes[1].object_repr == "x" * 200
        events = list(PoolEvent.objects.filter(object_id__in=[10_001, 10_002]).order_by("object_id"))
        assert [(e.content_type_id, e.pool_id, e.kind, e.actor_id, e.to_owner_id, e.at) for e in events] == [
            (ct.pk, self.east.pk, PoolEventKind.RELEASE, self.director.pk, None, at)] * 2
        assert [e.from_owner_id for e in events] == [self.rep1.pk, None]
        assert events[0].reason == ("理由" * 300)[:500] and events[0].object_repr == "甲公司"

    def test_log_without_a_user_and_lead_names(self):
        lead_ct = ContentType.objects.get_for_model(Lead)
        with context.change_context(source=ChangeSource.AUTOMATION):
            services._log(Lead, [{"id": 7, "owner_id": None, "department_id": None, "name": "王五", "company": "乙公司"}],
                          lambda r: {}, kind=PoolEventKind.RECYCLE, pool_id=None, to_owner_id=None)
        change = ObjectChange.objects.get(content_type=lead_ct, object_id=7)
        assert change.user_id is None and change.user_name == "" and change.changes == {}
        assert change.object_repr == "王五（乙公司）"
        event = PoolEvent.objects.get(content_type=lead_ct, object_id=7)
        assert event.actor_id is None and event.pool_id is None and event.reason == ""

    def test_many_rows_in_several_statements(self):
        rows = [{"id": 20_000 + i, "owner_id": self.rep1.pk, "department_id": None, "name": f"c{i}"} for i in range(1234)]
        services._log(Customer, rows, lambda r: {"n": r["id"]}, kind=PoolEventKind.RECYCLE, pool_id=self.east.pk,
                      to_owner_id=None)
        got = dict(ObjectChange.objects.filter(object_id__gte=20_000, object_id__lt=30_000).values_list("object_id", "changes"))
        assert got == {r["id"]: {"n": r["id"]} for r in rows}
        assert PoolEvent.objects.filter(object_id__gte=20_000, object_id__lt=30_000).count() == 1234


class ClaimWithAndWithoutCapsTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def _state(self, pk):
        c = Customer.objects.get(pk=pk)
        event = PoolEvent.objects.get(object_id=pk, kind=PoolEventKind.CLAIM)
        change = ObjectChange.objects.filter(object_id=pk, changes__has_key="pool").get()
        return (c.owner_id, c.pool_id, c.department_id, c.pool_entered_at, c.recycle_warned_at,
                event.actor_id, event.from_owner_id, event.to_owner_id, event.pool_id, change.changes)

    def test_same_outcome_with_and_without_caps(self):
        free = pooled_customer(self.east, self.director)
        capped = pooled_customer(self.east, self.director)
        services.claim(self.rep1, Customer, free.pk)
        Pool.objects.filter(pk=self.east.pk).update(hold_cap=100, daily_claim_cap=100)
        services.claim(self.rep1, Customer, capped.pk)
        a, b = self._state(free.pk), self._state(capped.pk)
        assert a == b
        assert a[0] == self.rep1.pk and a[1] is None and a[2] == self.team_a.pk


class CustomerIndexesTests(TestCase):
    def test_no_pattern_ops_twins_on_postgresql(self):
        from django.db import connection

        if connection.vendor != "postgresql":
            self.skipTest("PostgreSQL only")
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'customers_customer'")
            names = {row[0] for row in cursor.fetchall()}
        assert "customers_customer_search_pinyin_67e5e820" in names  # the plain index stays
        assert not {n for n in names if n.endswith("_like")}

    def test_pool_events_have_no_single_column_twins_of_the_composite_indexes(self):
        from django.db import connection

        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, PoolEvent._meta.db_table)
        single = {tuple(c["columns"]) for c in constraints.values() if c["index"] and len(c["columns"]) == 1}
        assert ("actor_id",) not in single and ("content_type_id",) not in single
        assert ("pool_id",) in single  # kept: deleting a pool clears its events' pool by it

    def test_customer_indexes_for_owner_and_pool_are_partial_and_search_name_is_unindexed(self):
        from django.db import connection

        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, Customer._meta.db_table)
        by_columns = {tuple(c["columns"]) for c in constraints.values() if c["index"]}
        assert ("search_name",) not in by_columns
        assert ("owner_id",) not in by_columns and ("pool_id",) not in by_columns
        assert {"cust_owner_idx", "cust_pool_idx", "cust_owner_next_idx"} <= set(constraints)
        # department, level and status are served by their (column, -id) composites alone
        assert not {("department_id",), ("level_id",), ("status_id",)} & by_columns
        assert {"cust_dept_idx", "cust_level_idx", "cust_status_idx"} <= set(constraints)
