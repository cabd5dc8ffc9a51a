import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from yingdan.core.models import Lookup
from yingdan.core.tests import factories
from yingdan.leads import services
from yingdan.leads.models import AssignmentRule, Lead

from .helpers import make_lead


def make_rule(department, method="round_robin", members=None, load_basis="leads"):
    return services.save_assignment_rule(
        factories.system_actor(), AssignmentRule(department=department, method=method, load_basis=load_basis), members=members,
    )


class TestPickOwners(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.team = factories.make_department("电销一组")
        cls.other = factories.make_department("电销二组")
        cls.a = factories.make_user("rr_a", ["rep"], cls.team)
        cls.b = factories.make_user("rr_b", ["rep"], cls.team)
        cls.c = factories.make_user("rr_c", ["rep"], cls.team)
        cls.gone = factories.make_user("rr_gone", ["rep"], cls.team, is_active=False)
        cls.noperm = factories.make_user("rr_noperm", [], cls.team)
        cls.outsider = factories.make_user("rr_out", ["rep"], cls.other)

    def test_round_robin_sequence_continues_across_calls(self):
        make_rule(self.team)
        first = services.pick_owners(self.team, 2)
        second = services.pick_owners(self.team, 1)
        third = services.pick_owners(self.team, 3)
        # Active members allowed to hold leads, by id; inactive and permission-less users are skipped.
        self.assertEqual(first + second + third, [self.a, self.b, self.c, self.a, self.b, self.c])
        self.assertEqual(AssignmentRule.objects.get(department=self.team).last_assigned, self.c)

    def test_round_robin_with_chosen_members_and_a_removed_pointer(self):
        rule = make_rule(self.team, members=[self.c, self.a])
        self.assertEqual(services.pick_owners(self.team, 3), [self.a, self.c, self.a])
        rule.members.set([self.b, self.c])  # the pointer (a) is no longer a member
        self.assertEqual(services.pick_owners(self.team, 2), [self.b, self.c])

    def test_least_load_counts_open_leads_in_the_database(self):
        make_rule(self.team, method="least_load")
        converted = Lookup.objects.get(kind="lead_status", code="converted")
        invalid = Lookup.objects.get(kind="lead_status", code="invalid")
        for _ in range(3):
            make_lead(self.a)
        make_lead(self.b)
        for status in (converted, invalid):  # closed leads do not count
            for _ in range(4):
                make_lead(self.c, status=status)
        make_lead(self.c, status=None)
        # loads: a=3, b=1, c=1 (one open lead without status); ties go to the lower id
        self.assertEqual(services.pick_owners(self.team, 4), [self.b, self.c, self.b, self.c])

    def test_least_load_by_customers_or_both(self):
        rule = make_rule(self.team, method="least_load", load_basis="customers")
        for _ in range(2):
            factories.make_customer(self.a)
            factories.make_customer(self.b)
        make_lead(self.c)
        make_lead(self.c)
        make_lead(self.c)
        self.assertEqual(services.pick_owners(self.team, 1), [self.c])
        rule.load_basis = "both"
        rule.save()
        self.assertEqual(services.pick_owners(self.team, 1), [self.a])

    def test_least_load_query_count_does_not_grow_with_rows(self):
        make_rule(self.team, method="least_load", load_basis="both")
        with CaptureQueriesContext(connection) as few:
            services.pick_owners(self.team, 1)
        for _ in range(10):
            make_lead(self.a)
            factories.make_customer(self.b)
        with CaptureQueriesContext(connection) as many:
            services.pick_owners(self.team, 5)
        self.assertEqual(len(few), len(many))

    def test_no_rule_or_no_member_is_refused(self):
        with self.assertRaises(ValidationError) as caught:
            services.pick_owners(self.other, 1)
        self.assertEqual(caught.exception.error_dict["assign_to_department"][0].code, "no_assignment_rule")
        empty = factories.make_department("空组")
        make_rule(empty)
        with self.assertRaises(ValidationError):
            services.pick_owners(empty, 1)

    def test_save_lead_assigns_and_notifies(self):
        make_rule(self.team)
        admin = factories.make_user("rr_admin", ["admin"], self.other)
        lead = services.save_lead(admin, Lead(name="分配"), assign_to_department=self.team)
        self.assertEqual((lead.owner, lead.department), (self.a, self.team))
        from yingdan.notifications.models import Notification

        self.assertEqual(Notification.objects.filter(recipient=self.a, kind="lead_assigned").count(), 1)
        # A rep (no transfer permission) may not hand a lead to a team.
        with self.assertRaises(ValidationError):
            services.save_lead(self.outsider, Lead(name="不许"), assign_to_department=self.team)
        self.assertFalse(Lead.objects.filter(name="不许").exists())

    def test_rule_settings_need_the_settings_permission(self):
        from django.core.exceptions import PermissionDenied

        with self.assertRaises(PermissionDenied):
            services.save_assignment_rule(self.a, AssignmentRule(department=self.team))
        self.assertFalse(AssignmentRule.objects.exists())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("method", ["round_robin", "least_load"])
def test_concurrent_picks_do_not_double_assign(method):
    """Parallel creations against PostgreSQL: each pick locks the rule row until its lead is saved."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter (SQLite serialises writers)")
    team = factories.make_department("并发组")
    members = [factories.make_user(f"cc_{i}", ["rep"], team) for i in range(4)]
    make_rule(team, method=method)
    per_member, threads_n = 3, 12
    barrier = threading.Barrier(threads_n)
    errors = []

    def work(i):
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                owner = services.pick_owners(team, 1)[0]
                lead = Lead(name=f"并发{i}", owner=owner, created_by=owner)
                lead.sync_department()
                lead.save()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    counts = {m.pk: Lead.objects.filter(owner=m).count() for m in members}
    assert sorted(counts.values()) == [per_member] * len(members), counts
