import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError

from yingdan.core import registry
from yingdan.core.models import ObjectChange
from yingdan.customers.models import Contact, Customer
from yingdan.handover import services
from yingdan.handover.models import HandoverRecord
from yingdan.leads.models import Lead
from yingdan.notifications.models import Notification
from yingdan.org.models import User

from .helpers import build_env, make_default_pools

pytestmark = pytest.mark.django_db


@pytest.fixture
def env(db):
    return build_env(customers=5, leads=3)


def owners(model, objs):
    return [model.objects.get(pk=o.pk).owner_id for o in objs]


def test_plan_counts_per_kind_and_successor(env):
    plan = services.plan_handover(env.admin, env.leaving, "split", [env.b.pk, env.c.pk])
    summary = plan.summary()
    assert summary["customers"]["total"] == 5 and summary["leads"]["total"] == 3
    # round-robin continues across kinds: customers b,c,b,c,b; leads c,b,c → 4 each
    assert summary["customers"]["successors"] == {str(env.b.pk): 3, str(env.c.pk): 2}
    assert summary["leads"]["successors"] == {str(env.b.pk): 1, str(env.c.pk): 2}
    assert dict(plan.successor_totals()) == {env.b: 4, env.c: 4}
    assert sorted(summary["customers"]["details"].values()) == [1, 5]  # 5 contacts, 1 follow-up plan
    # a preview changes nothing
    assert owners(Customer, env.customers) == [env.leaving.pk] * 5
    assert User.objects.get(pk=env.leaving.pk).is_active
    assert not HandoverRecord.objects.exists()


def test_all_to_one_successor(env):
    record = services.execute_handover(env.admin, env.leaving, "one", [env.b], "离职")
    assert owners(Customer, env.customers) == [env.b.pk] * 5
    assert owners(Lead, env.leads) == [env.b.pk] * 3
    # contacts follow their customer, the follow-up plan stays on it
    assert set(Contact.objects.filter(pk__in=[c.pk for c in env.contacts]).values_list("customer__owner", flat=True)) == {env.b.pk}
    assert Customer.objects.get(pk=env.customers[0].pk).next_followup_at is not None
    assert Customer.objects.get(pk=env.other_customer.pk).owner_id == env.b.pk
    leaving = User.objects.get(pk=env.leaving.pk)
    assert not leaving.is_active and leaving.deactivated_at is not None
    assert record.mode == "one" and record.total == 8 and list(record.successors.all()) == [env.b]
    assert record.counts["customers"]["successors"] == {str(env.b.pk): 5}
    assert record.created_by_id == env.admin.pk and record.reason == "离职"
    # audited: each customer's owner change, the record itself, the deactivation
    ct = ContentType.objects.get_for_model(Customer)
    changes = ObjectChange.objects.filter(content_type=ct, object_id__in=[c.pk for c in env.customers], action="update",
                                         changes__has_key="owner")
    assert changes.count() == 5 and all(c.changes["owner"] == [env.leaving.pk, env.b.pk] for c in changes)
    assert ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(HandoverRecord), object_id=record.pk).exists()
    assert ObjectChange.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=env.leaving.pk,
                                       changes__has_key="is_active").exists()
    # the successor is told
    note = Notification.objects.get(recipient=env.b, kind="handover")
    assert note.url == f"/customers/?owner={env.b.pk}" and note.actor_id == env.admin.pk


def test_split_evenly_round_robin_in_id_order(env):
    record = services.execute_handover(env.admin, env.leaving, "split", [env.b.pk, env.c.pk], "")
    ids = sorted(c.pk for c in env.customers)
    got = dict(Customer.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
    assert [got[pk] for pk in ids] == [env.b.pk, env.c.pk, env.b.pk, env.c.pk, env.b.pk]
    lead_ids = sorted(lead.pk for lead in env.leads)
    got = dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "owner_id"))
    assert [got[pk] for pk in lead_ids] == [env.c.pk, env.b.pk, env.c.pk]
    assert record.counts["customers"]["successors"] == {str(env.b.pk): 3, str(env.c.pk): 2}
    assert {n.recipient_id for n in Notification.objects.filter(kind="handover")} == {env.b.pk, env.c.pk}
    assert not User.objects.get(pk=env.leaving.pk).is_active


def test_return_to_pool(env):
    customer_pool, lead_pool = make_default_pools()
    record = services.execute_handover(env.admin, env.leaving, "pool", [], "离职回收")
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", "pool_id")) == {(None, customer_pool.pk)}
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in env.leads]).values_list("owner_id", "pool_id")) == {(None, lead_pool.pk)}
    assert record.counts["customers"]["pool"] == 5 and record.counts["leads"]["pool"] == 3
    assert not record.successors.exists()
    assert not Notification.objects.filter(kind="handover").exists()
    assert not User.objects.get(pk=env.leaving.pk).is_active


def test_nothing_to_hand_over_still_deactivates(db):
    env = build_env(customers=0, leads=0)
    record = services.execute_handover(env.admin, env.leaving, "one", [env.b], "")
    assert record.total == 0
    assert not User.objects.get(pk=env.leaving.pk).is_active
    assert not Notification.objects.filter(kind="handover").exists()


def test_users_edit_permission_is_enough(env):
    services.execute_handover(env.hr, env.leaving, "one", [env.c], "")
    assert owners(Customer, env.customers) == [env.c.pk] * 5


def test_failure_midway_changes_nothing(env, monkeypatch):
    def boom(actor, ids, new_owner):
        raise ValidationError("opportunity locked")

    monkeypatch.setitem(registry.handover_providers, "zz_failing", registry.HandoverProvider(
        key="zz_failing", label="Failing", count=lambda u: 1, ids=lambda u: [1], transfer=boom, order=999,
    ))
    changes_before = ObjectChange.objects.count()
    with pytest.raises(ValidationError):
        services.execute_handover(env.admin, env.leaving, "one", [env.b], "")
    assert owners(Customer, env.customers) == [env.leaving.pk] * 5  # customers were moved first, then rolled back
    assert owners(Lead, env.leads) == [env.leaving.pk] * 3
    assert User.objects.get(pk=env.leaving.pk).is_active
    assert not HandoverRecord.objects.exists()
    assert not Notification.objects.filter(kind="handover").exists()
    assert ObjectChange.objects.count() == changes_before


def test_partial_transfer_outside_scope_rolls_back(env):
    # a manager of d1 may edit users of their department tree but not transfer d2's customers: give the
    # leaving user one customer in d2's scope and check the whole handover is refused
    from yingdan.core.tests.factories import make_role, make_user

    role = make_role("一部经理", {
        "users": {"actions": ["view", "edit"], "scope": "department_tree"},
        "customers": {"actions": ["view", "edit", "transfer"], "scope": "department_tree"},
        "leads": {"actions": ["view", "edit", "transfer"], "scope": "department_tree"},
    })
    manager = make_user("mgr1", [], env.d1, roles=[role])
    Customer.objects.filter(pk=env.customers[0].pk).update(department=env.d2)
    with pytest.raises(ValidationError):
        services.execute_handover(manager, env.leaving, "one", [env.b], "")
    assert owners(Customer, env.customers) == [env.leaving.pk] * 5
    assert User.objects.get(pk=env.leaving.pk).is_active


@pytest.mark.parametrize("case", ["inactive", "self_successor", "actor_self", "split_one", "one_two", "none"])
def test_refusals_change_nothing(env, case):
    args = {
        "inactive": ("one", lambda: [env.inactive.pk], env.admin, env.leaving),
        "self_successor": ("one", lambda: [env.leaving.pk], env.admin, env.leaving),
        "actor_self": ("one", lambda: [env.b.pk], env.admin, env.admin),
        "split_one": ("split", lambda: [env.b.pk], env.admin, env.leaving),
        "one_two": ("one", lambda: [env.b.pk, env.c.pk], env.admin, env.leaving),
        "none": ("one", lambda: [], env.admin, env.leaving),
    }[case]
    mode, successors, actor, user = args
    with pytest.raises(ValidationError):
        services.plan_handover(actor, user, mode, successors())
    with pytest.raises(ValidationError):
        services.execute_handover(actor, user, mode, successors(), "")
    assert owners(Customer, env.customers) == [env.leaving.pk] * 5
    assert User.objects.get(pk=user.pk).is_active
    assert not HandoverRecord.objects.exists()


def test_without_users_edit_is_refused(env):
    with pytest.raises(PermissionDenied):
        services.plan_handover(env.viewer, env.leaving, "one", [env.b])
    with pytest.raises(PermissionDenied):
        services.execute_handover(env.viewer, env.leaving, "one", [env.b], "")
    assert owners(Customer, env.customers) == [env.leaving.pk] * 5


def test_pool_mode_gives_kinds_without_a_pool_to_the_successor(env, monkeypatch):
    make_default_pools()
    moved = []

    def transfer(actor, ids, new_owner):
        moved.append((list(ids), new_owner.pk))
        return len(ids)

    monkeypatch.setitem(registry.handover_providers, "zz_nopool", registry.HandoverProvider(
        key="zz_nopool", label="No pool", count=lambda u: 2, ids=lambda u: [11, 12], transfer=transfer, order=999,
    ))
    with pytest.raises(ValidationError) as exc:
        services.plan_handover(env.admin, env.leaving, "pool", [])
    assert "successors" in exc.value.message_dict
    plan = services.plan_handover(env.admin, env.leaving, "pool", [env.c.pk])
    assert plan.summary()["customers"]["pool"] == 5 and plan.summary()["zz_nopool"]["successors"] == {str(env.c.pk): 2}
    record = services.execute_handover(env.admin, env.leaving, "pool", [env.c.pk], "离职")
    assert moved == [([11, 12], env.c.pk)]
    assert set(Customer.objects.filter(pk__in=[c.pk for c in env.customers]).values_list("owner_id", flat=True)) == {None}
    assert list(record.successors.all()) == [env.c]
    assert Notification.objects.get(kind="handover").recipient_id == env.c.pk
