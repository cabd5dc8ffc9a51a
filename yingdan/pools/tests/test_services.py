import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests import factories
from yingdan.customers.models import Customer
from yingdan.notifications.models import Notification
from yingdan.pools import services
from yingdan.pools.models import Pool, PoolEvent, PoolEventKind, PoolKind
from yingdan.pools.timeline import pool_timeline

from .base import make_org, pooled_customer, release_as, set_company_cap


def code_of(exc_info) -> str:
    exc = exc_info.value
    return getattr(exc, "code", None) or (exc.error_list[0].code if hasattr(exc, "error_list") else None)


class PoolForTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)
        cls.team_pool = Pool.objects.create(name="上海公海", object_type="customer")
        cls.team_pool.departments.set([cls.team_a])

    def test_nearest_covering_ancestor_wins_else_default(self):
        in_team = factories.make_customer(self.rep1)
        in_region = factories.make_customer(self.manager)
        elsewhere = factories.make_customer(self.rep_b)
        self.assertEqual(services.pool_for(in_team), self.team_pool)
        self.assertEqual(services.pool_for(in_region), self.east)
        self.assertEqual(services.pool_for(elsewhere), self.default_pool)

    def test_inactive_pool_is_skipped(self):
        Pool.objects.filter(pk=self.team_pool.pk).update(is_active=False)
        self.assertEqual(services.pool_for(factories.make_customer(self.rep1)), self.east)


class ReleaseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_release_needs_a_reason_and_changes_nothing(self):
        c = factories.make_customer(self.rep1)
        for reason in ("", "   ", None):
            with pytest.raises(ValidationError) as exc:
                release_as(self.rep1, [c], reason=reason)
            assert "reason" in exc.value.message_dict
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk and c.pool_id is None
        assert not PoolEvent.objects.exists()

    def test_release_returns_to_covering_pool_audited(self):
        c = factories.make_customer(self.rep1)
        changes_before = ObjectChange.objects.count()
        assert release_as(self.rep1, [c], reason="客户无意向") == 1
        c.refresh_from_db()
        assert c.owner_id is None and c.pool_id == self.east.pk and c.previous_owner_id == self.rep1.pk
        assert c.pool_entered_at is not None and c.department_id == self.team_a.pk
        event = PoolEvent.objects.get()
        assert (event.kind, event.from_owner_id, event.actor_id, event.reason) == (PoolEventKind.RELEASE, self.rep1.pk, self.rep1.pk, "客户无意向")
        change = ObjectChange.objects.order_by("-id").first()
        assert ObjectChange.objects.count() == changes_before + 1
        assert change.changes["owner"] == [self.rep1.pk, None] and change.object_id == c.pk

    def test_release_clears_department_when_the_pool_says_so(self):
        Pool.objects.filter(pk=self.east.pk).update(clear_department=True)
        c = factories.make_customer(self.rep1)
        release_as(self.rep1, [c])
        c.refresh_from_db()
        assert c.department_id is None and c.pool_id == self.east.pk

    def test_release_outside_scope_is_refused(self):
        theirs = factories.make_customer(self.rep2)
        with pytest.raises(ValidationError):
            release_as(self.rep1, [theirs])
        theirs.refresh_from_db()
        assert theirs.owner_id == self.rep2.pk

    def test_release_without_module_permission_is_refused(self):
        c = factories.make_customer(self.rep1)
        with pytest.raises(PermissionDenied):
            release_as(self.noperm, [c])


class ClaimTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_claim_takes_the_record_once(self):
        c = pooled_customer(self.east, self.director)
        got = services.claim(self.rep1, Customer, c.pk)
        assert got.owner_id == self.rep1.pk and got.pool_id is None and got.department_id == self.team_a.pk
        assert got.owner_since is not None
        assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM, to_owner=self.rep1, pool=self.east).count() == 1
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep2, Customer, c.pk)
        assert code_of(exc) == "not_in_pool"
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk

    def test_claim_refused_for_non_member(self):
        c = pooled_customer(self.east, self.director)
        with pytest.raises(PermissionDenied):
            services.claim(self.rep_b, Customer, c.pk)  # region_b is not covered by the east pool
        self.east.members.set([self.rep2])
        with pytest.raises(PermissionDenied):
            services.claim(self.rep1, Customer, c.pk)  # an explicit member list excludes rep1
        with pytest.raises(PermissionDenied):
            services.claim(self.noperm, Customer, c.pk)
        c.refresh_from_db()
        assert c.owner_id is None and c.pool_id == self.east.pk

    def test_claim_refused_in_assign_only_pool(self):
        Pool.objects.filter(pk=self.east.pk).update(kind=PoolKind.ASSIGNED)
        c = pooled_customer(self.east, self.director)
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, c.pk)
        assert code_of(exc) == "assigned_only"

    def test_cooldown_for_previous_owner(self):
        Pool.objects.filter(pk=self.east.pk).update(cooldown_days=7)
        c = pooled_customer(self.east, self.director, previous_owner=self.rep1, entered=timezone.now() - datetime.timedelta(days=2))
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, c.pk)
        assert code_of(exc) == "cooldown"
        assert services.claim(self.rep2, Customer, c.pk).owner_id == self.rep2.pk  # others may

    def test_cooldown_over(self):
        Pool.objects.filter(pk=self.east.pk).update(cooldown_days=7)
        c = pooled_customer(self.east, self.director, previous_owner=self.rep1, entered=timezone.now() - datetime.timedelta(days=8))
        assert services.claim(self.rep1, Customer, c.pk).owner_id == self.rep1.pk

    def test_daily_claim_cap(self):
        Pool.objects.filter(pk=self.east.pk).update(daily_claim_cap=2)
        cs = [pooled_customer(self.east, self.director) for _ in range(3)]
        services.claim(self.rep1, Customer, cs[0].pk)
        services.claim(self.rep1, Customer, cs[1].pk)
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, cs[2].pk)
        assert code_of(exc) == "daily_cap"
        cs[2].refresh_from_db()
        assert cs[2].owner_id is None

    def test_pool_hold_cap_and_company_cap_stricter_wins(self):
        Pool.objects.filter(pk=self.east.pk).update(hold_cap=3)
        set_company_cap(2)
        factories.make_customer(self.rep1)
        c1, c2 = pooled_customer(self.east, self.director), pooled_customer(self.east, self.director)
        services.claim(self.rep1, Customer, c1.pk)  # holds 2 now
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, c2.pk)
        assert code_of(exc) == "hold_cap"
        set_company_cap(None)
        services.claim(self.rep1, Customer, c2.pk)  # pool cap 3 allows the third
        assert Customer.objects.filter(owner=self.rep1).count() == 3

    def test_won_customers_count_only_when_configured(self):
        won = Lookup.objects.get(kind="customer_status", code="won")
        factories.make_customer(self.rep1, status=won)
        Pool.objects.filter(pk=self.east.pk).update(hold_cap=1, count_won=False)
        c = pooled_customer(self.east, self.director)
        services.claim(self.rep1, Customer, c.pk)  # the won one does not count
        Customer.objects.filter(pk=c.pk).update(owner=None, pool=self.east)
        Pool.objects.filter(pk=self.east.pk).update(hold_cap=1, count_won=True)
        c3 = pooled_customer(self.east, self.director)
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, c3.pk)
        assert code_of(exc) == "hold_cap"

    def test_claim_not_in_any_pool(self):
        c = factories.make_customer(self.rep2)
        with pytest.raises(ValidationError) as exc:
            services.claim(self.rep1, Customer, c.pk)
        assert code_of(exc) == "not_in_pool"


class AssignTransferTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)

    def test_pool_admin_assigns_and_owner_is_notified(self):
        Pool.objects.filter(pk=self.east.pk).update(kind=PoolKind.ASSIGNED)
        cs = [pooled_customer(self.east, self.director) for _ in range(2)]
        assert services.assign(self.pool_admin, Customer, [c.pk for c in cs], self.rep1) == 2
        assert Customer.objects.filter(owner=self.rep1, pool__isnull=True).count() == 2
        assert PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN).count() == 2
        assert Notification.objects.filter(recipient=self.rep1, kind=services.NOTIFY_ASSIGNED).count() == 1

    def test_non_admin_cannot_assign(self):
        c = pooled_customer(self.east, self.director)
        with pytest.raises(PermissionDenied):
            services.assign(self.rep1, Customer, [c.pk], self.rep2)
        c.refresh_from_db()
        assert c.owner_id is None

    def test_assign_to_inactive_user_refused(self):
        c = pooled_customer(self.east, self.director)
        with pytest.raises(ValidationError) as exc:
            services.assign(self.pool_admin, Customer, [c.pk], self.inactive)
        assert "owner" in exc.value.message_dict

    def test_assign_respects_hold_cap(self):
        Pool.objects.filter(pk=self.east.pk).update(hold_cap=1)
        cs = [pooled_customer(self.east, self.director) for _ in range(2)]
        with pytest.raises(ValidationError):
            services.assign(self.pool_admin, Customer, [c.pk for c in cs], self.rep1)
        assert not Customer.objects.filter(owner=self.rep1).exists()

    def test_transfer(self):
        c = factories.make_customer(self.rep1)
        assert services.transfer(self.manager, Customer, [c.pk], self.rep2) == 1
        c.refresh_from_db()
        assert c.owner_id == self.rep2.pk and c.previous_owner_id == self.rep1.pk
        assert PoolEvent.objects.get().kind == PoolEventKind.TRANSFER

    def test_transfer_to_inactive_refused_and_nothing_changes(self):
        c = factories.make_customer(self.rep1)
        with pytest.raises(ValidationError) as exc:
            services.transfer(self.manager, Customer, [c.pk], self.inactive)
        assert "owner" in exc.value.message_dict
        c.refresh_from_db()
        assert c.owner_id == self.rep1.pk and not PoolEvent.objects.exists()

    def test_transfer_needs_permission(self):
        c = factories.make_customer(self.rep1)
        with pytest.raises(PermissionDenied):
            services.transfer(self.rep1, Customer, [c.pk], self.rep2)

    def test_timeline_shows_pool_events(self):
        c = factories.make_customer(self.rep1)
        release_as(self.rep1, [c], reason="无需求")
        services.claim(self.rep2, Customer, c.pk)
        c.refresh_from_db()
        entries = pool_timeline(c, self.manager)
        assert [e.data["pool_event"] for e in entries] == [PoolEventKind.CLAIM, PoolEventKind.RELEASE]
        assert all(e.kind == "pool" for e in entries)


class RecycleTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        make_org(cls)
        cls.level_a = Lookup.objects.filter(kind="customer_level").order_by("order", "id").first()
        Pool.objects.filter(pk=cls.east.pk).update(
            recycle_enabled=True, warn_days=3,
            recycle_rules={"default": {"no_followup_days": 30}, str(cls.level_a.pk): {"no_followup_days": 7}},
        )

    def _customer(self, owner, days_since_contact, **kw):
        c = factories.make_customer(owner, **kw)
        Customer.objects.filter(pk=c.pk).update(last_contact_at=timezone.now() - datetime.timedelta(days=days_since_contact))
        return c

    def test_dry_run_counts_and_changes_nothing(self):
        self._customer(self.rep1, 40)
        self._customer(self.rep1, 10)
        report = services.recycle(dry_run=True)
        assert report.per_pool[("customer", self.east.pk)] == 1
        assert Customer.objects.filter(pool__isnull=False).count() == 0

    def test_recycle_per_level_idempotent_and_audited(self):
        old = self._customer(self.rep1, 40)
        recent = self._customer(self.rep1, 10)
        a_level = self._customer(self.rep2, 10, level=self.level_a)
        other_region = self._customer(self.rep_b, 400)  # default pool: no recycling configured
        report = services.recycle()
        assert report.per_pool[("customer", self.east.pk)] == 2
        for c in (old, a_level):
            c.refresh_from_db()
            assert c.owner_id is None and c.pool_id == self.east.pk and c.previous_owner_id is not None
        for c in (recent, other_region):
            c.refresh_from_db()
            assert c.owner_id is not None and c.pool_id is None
        assert PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).count() == 2
        ct = ContentType.objects.get_for_model(Customer)
        assert ObjectChange.objects.filter(content_type=ct, object_id=old.pk, changes__has_key="pool").count() == 1
        again = services.recycle()
        assert again.total == 0
        assert PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).count() == 2

    def test_owner_since_counts_when_no_contact(self):
        c = factories.make_customer(self.rep1)
        Customer.objects.filter(pk=c.pk).update(last_contact_at=None, owner_since=timezone.now() - datetime.timedelta(days=5))
        assert services.recycle(dry_run=True).total == 0
        Customer.objects.filter(pk=c.pk).update(owner_since=timezone.now() - datetime.timedelta(days=31))
        assert services.recycle(dry_run=True).total == 1

    def test_no_won_days_rule(self):
        Pool.objects.filter(pk=self.east.pk).update(recycle_rules={"default": {"no_won_days": 90}})
        c = self._customer(self.rep1, 1)
        Customer.objects.filter(pk=c.pk).update(last_won_at=timezone.now() - datetime.timedelta(days=100))
        assert services.recycle().total == 1

    def test_limit_bounds_a_partial_run_and_rerun_finishes(self):
        for _ in range(3):
            self._customer(self.rep1, 40)
        assert services.recycle(limit=2).total == 2
        assert services.recycle().total == 1

    def test_warn_once_per_cycle(self):
        c = self._customer(self.rep1, 28)  # due in 2 days, warning window 3 days
        self._customer(self.rep1, 10)
        assert services.warn_due() == 1
        assert services.warn_due() == 0
        notes = Notification.objects.filter(recipient=self.rep1, kind=services.NOTIFY_WARNING)
        assert notes.count() == 1
        # a new follow-up starts a new cycle; when it becomes due again, a new warning
        Customer.objects.filter(pk=c.pk).update(recycle_warned_at=timezone.now() - datetime.timedelta(days=2),
                                                last_contact_at=timezone.now() - datetime.timedelta(days=1))
        assert services.warn_due() == 0
        later = timezone.now() + datetime.timedelta(days=27)
        assert services.warn_due(later) == 1  # the other one is due by then (recycled, not warned)

    def test_nightly_job_and_command(self):
        from django.core.management import call_command

        self._customer(self.rep1, 40)
        call_command("pool_recycle", "--dry-run", stdout=open("/dev/null", "w"))
        assert Customer.objects.filter(pool__isnull=False).count() == 0
        report = services.run_nightly()
        assert report.total == 1
