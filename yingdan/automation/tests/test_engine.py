"""Rules: triggers, conditions, actions, loop guard, deleted fields, scheduled triggers."""

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from yingdan.automation import engine, scheduled
from yingdan.automation.models import AutomationRule, RuleRun
from yingdan.core import context
from yingdan.core.choices import ChangeSource
from yingdan.core.models import ObjectChange
from yingdan.core.tests.factories import make_custom_field, make_customer, make_department, make_user
from yingdan.customers.models import Customer
from yingdan.customers.services import save_customer
from yingdan.notifications.models import Notification

from .helpers import make_rule

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("销售一组")
    e.admin = make_user("auto_admin", ["admin"], e.team)
    e.rep = make_user("auto_rep", ["rep"], e.team)
    e.boss = make_user("auto_boss", ["manager"], e.team)
    e.team.manager = e.boss
    e.team.save()
    return e


def update(actor, customer, **values):
    for k, v in values.items():
        setattr(customer, k, v)
    with context.change_context(user=actor, source=ChangeSource.WEB):
        return save_customer(actor, customer, confirm_duplicates=True)


def runs(rule):
    return list(RuleRun.objects.filter(rule=rule).order_by("id"))


def test_created_trigger_notifies_owner_and_manager(env, django_capture_on_commit_callbacks):
    rule = make_rule(env.admin, actions=[{"type": "notify", "owner": True, "manager": True, "title": "新客户 {{name}}"}])
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(env.rep, name="甲公司")
    [run] = runs(rule)
    assert run.result == "ok" and run.object_id == customer.pk and run.event == "customers.customer.create"
    notes = Notification.objects.filter(kind="automation")
    assert {n.recipient_id for n in notes} == {env.rep.pk, env.boss.pk}
    assert notes[0].title == "新客户 甲公司"


def test_rule_for_other_object_or_inactive_does_not_fire(env, django_capture_on_commit_callbacks):
    make_rule(env.admin, object_type="leads.lead", actions=[{"type": "notify", "owner": True}])
    make_rule(env.admin, is_active=False, actions=[{"type": "notify", "owner": True}])
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep)
    assert not RuleRun.objects.exists()


def test_updated_and_field_changed_to_value(env, django_capture_on_commit_callbacks):
    customer = make_customer(env.rep, name="乙公司")
    on_update = make_rule(env.admin, trigger="updated", actions=[{"type": "notify", "owner": True}])
    changed = make_rule(env.admin, trigger="field_changed", trigger_field="address", actions=[{"type": "notify", "owner": True}])
    to_value = make_rule(env.admin, trigger="field_changed", trigger_field="address", trigger_value="上海",
                         actions=[{"type": "notify", "owner": True}])
    with django_capture_on_commit_callbacks(execute=True):
        update(env.admin, customer, address="北京")
    assert len(runs(on_update)) == 1 and len(runs(changed)) == 1 and not runs(to_value)
    with django_capture_on_commit_callbacks(execute=True):
        update(env.admin, customer, address="上海")
    assert len(runs(to_value)) == 1 and len(runs(changed)) == 2
    with django_capture_on_commit_callbacks(execute=True):
        update(env.admin, customer, remarks="x")
    assert len(runs(changed)) == 2 and len(runs(on_update)) == 3


@pytest.mark.parametrize("value,op,target,expected", [
    ("abc", "eq", "abc", True), ("abc", "ne", "abc", False), (5, "gt", "3", True), (5, "lt", "3", False),
    (Decimal("5"), "gte", "5", True), (5, "lte", "4.5", False), ("上海浦东", "contains", "浦东", True),
    (None, "empty", None, True), ("", "empty", None, True), ("x", "empty", None, False), ("x", "not_empty", None, True),
    ("b", "in", ["a", "b"], True), ("c", "in", "a, b", False), (["a", "b"], "contains", "b", True),
    (datetime.date(2026, 5, 1), "gt", "2026-04-30", True), (None, "gt", "1", False), (3, "eq", "3", True),
    (True, "eq", "true", True),
])
def test_operators(value, op, target, expected):
    assert engine.compare(value, op, target) is expected


def test_and_or_groups_with_custom_fields(env):
    make_custom_field(Customer, "budget", "integer")
    customer = make_customer(env.rep, name="丙公司", custom_fields={"budget": 500})
    cond = {"logic": "and", "rules": [
        {"field": "custom_fields__budget", "op": "gte", "value": 100},
        {"logic": "or", "rules": [{"field": "name", "op": "contains", "value": "丁"},
                                  {"field": "owner", "op": "eq", "value": env.rep.pk}]},
    ]}
    assert engine.evaluate(cond, customer)
    cond["rules"][1]["rules"][1]["value"] = env.admin.pk
    assert not engine.evaluate(cond, customer)
    cond["logic"] = "or"
    assert engine.evaluate(cond, customer)
    assert engine.evaluate({}, customer)


def test_condition_filters_the_match(env, django_capture_on_commit_callbacks):
    rule = make_rule(env.admin, conditions={"logic": "and", "rules": [{"field": "name", "op": "contains", "value": "科技"}]},
                     actions=[{"type": "notify", "owner": True}])
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep, name="甲贸易公司")
        hit = make_customer(env.rep, name="乙科技公司")
    assert [r.object_id for r in runs(rule)] == [hit.pk]


def test_set_field_goes_through_the_service_with_automation_source(env, django_capture_on_commit_callbacks):
    make_custom_field(Customer, "grade", "text")
    rule = make_rule(env.admin, actions=[{"type": "set_field", "field": "remarks", "value": "自动备注"},
                                         {"type": "set_field", "field": "custom_fields__grade", "value": "A"}])
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(env.rep)
    customer.refresh_from_db()
    assert runs(rule)[0].result == "ok", runs(rule)[0].message
    assert customer.remarks == "自动备注" and customer.custom_fields["grade"] == "A"
    change = ObjectChange.objects.filter(object_id=customer.pk, content_type__model="customer", action="update").latest("id")
    assert change.source == "automation"


def test_loop_guard_rule_that_retriggers_itself(env, django_capture_on_commit_callbacks):
    customer = make_customer(env.rep)
    rule = make_rule(env.admin, trigger="updated", actions=[{"type": "set_field", "field": "remarks", "value": "loop"}])
    # a second rule that flips the field back: the two would ping-pong forever without the chain guard
    other = make_rule(env.admin, name="other", trigger="field_changed", trigger_field="remarks", trigger_value="loop",
                      actions=[{"type": "set_field", "field": "remarks", "value": "pong"}])
    with django_capture_on_commit_callbacks(execute=True):
        update(env.admin, customer, address="杭州")
    assert 1 <= len(runs(rule)) <= 3 and len(runs(other)) <= 3
    assert RuleRun.objects.count() < 8


def test_self_retrigger_runs_once(env, django_capture_on_commit_callbacks):
    customer = make_customer(env.rep)
    rule = make_rule(env.admin, trigger="updated", actions=[{"type": "set_field", "field": "remarks", "value": "again"}])
    with django_capture_on_commit_callbacks(execute=True):
        update(env.admin, customer, address="杭州")
    assert len(runs(rule)) == 1


def test_deleted_custom_field_disables_rule_with_reason(env, django_capture_on_commit_callbacks):
    field = make_custom_field(Customer, "tier", "text")
    rule = make_rule(env.admin, conditions={"logic": "and", "rules": [{"field": "custom_fields__tier", "op": "eq", "value": "A"}]},
                     actions=[{"type": "notify", "owner": True}])
    field.delete()
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep)  # no crash
    rule.refresh_from_db()
    assert rule.is_active is False and "tier" in rule.disabled_reason
    bad = make_rule(env.admin, conditions={"logic": "and", "rules": [{"field": "gone_field", "op": "eq", "value": "A"}]})
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep)
    bad.refresh_from_db()
    assert bad.is_active is False and "gone_field" in bad.disabled_reason


def test_action_error_is_logged_not_raised(env, django_capture_on_commit_callbacks):
    rule = make_rule(env.admin, actions=[{"type": "set_field", "field": "name", "value": ""},
                                         {"type": "notify", "owner": True}])
    with django_capture_on_commit_callbacks(execute=True):
        make_customer(env.rep)
    [run] = runs(rule)
    assert run.result == "error" and Notification.objects.filter(kind="automation").exists()


def test_assign_by_team_rule(env, django_capture_on_commit_callbacks):
    from yingdan.leads.models import AssignmentRule
    from yingdan.leads.services import save_assignment_rule

    save_assignment_rule(env.admin, AssignmentRule(department=env.team), members=[env.rep, env.boss])
    rule = make_rule(env.admin, actions=[{"type": "assign", "department": env.team.pk}])
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(env.admin)
    run = runs(rule)[0]
    assert run.result == "ok", run.message
    customer.refresh_from_db()
    assert customer.owner_id in (env.rep.pk, env.boss.pk)


@pytest.mark.skipif(not apps.is_installed("yingdan.tasks"), reason="tasks app not installed")
def test_create_task(env, django_capture_on_commit_callbacks):
    from yingdan.tasks.models import Task

    rule = make_rule(env.admin, actions=[{"type": "create_task", "title": "回访 {{name}}", "due_in_days": 2}])
    with django_capture_on_commit_callbacks(execute=True):
        customer = make_customer(env.rep, name="戊公司")
    assert runs(rule)[0].result == "ok", runs(rule)[0].message
    task = Task.objects.get(target_id=customer.pk)
    assert task.title == "回访 戊公司" and task.owner_id == env.rep.pk


def test_stage_entered(env, django_capture_on_commit_callbacks):
    from yingdan.opportunities import services as opp_services
    from yingdan.opportunities.tests.helpers import complete_stage, make_opportunity, stage

    target = stage("需求确认")
    rule = make_rule(env.admin, object_type="opportunities.opportunity", trigger="stage_entered", trigger_value=target.pk,
                     actions=[{"type": "notify", "owner": True}])
    other = make_rule(env.admin, object_type="opportunities.opportunity", trigger="stage_entered",
                      trigger_value=stage("赢单").pk, actions=[{"type": "notify", "owner": True}])
    opp = make_opportunity(env.rep, amount=Decimal("1000"))
    complete_stage(env.rep, opp)
    with django_capture_on_commit_callbacks(execute=True):
        opp_services.move_opportunity(env.rep, opp, target, expected_version=opp.version)
    assert len(runs(rule)) == 1 and not runs(other)


def test_date_reached_with_offset_once_per_day(env):
    from yingdan.opportunities.tests.helpers import make_opportunity

    today = timezone.localdate()
    due = make_opportunity(env.rep, expected_close=today + datetime.timedelta(days=3))
    make_opportunity(env.rep, expected_close=today + datetime.timedelta(days=4))
    rule = make_rule(env.admin, object_type="opportunities.opportunity", trigger="date_reached",
                     trigger_field="expected_close", offset_days=-3, actions=[{"type": "notify", "owner": True}])
    assert scheduled.run_scheduled(today) == 1
    assert scheduled.run_scheduled(today) == 0
    assert [r.object_id for r in runs(rule)] == [due.pk]


def test_no_followup_for_n_days(env):
    stale = make_customer(env.rep, name="久未联系")
    fresh = make_customer(env.rep, name="刚联系")
    Customer.objects.filter(pk=stale.pk).update(last_contact_at=timezone.now() - datetime.timedelta(days=20))
    Customer.objects.filter(pk=fresh.pk).update(last_contact_at=timezone.now() - datetime.timedelta(days=2))
    rule = make_rule(env.admin, trigger="no_followup", offset_days=14, actions=[{"type": "notify", "owner": True}])
    assert scheduled.run_scheduled() == 1
    assert scheduled.run_scheduled() == 0
    assert [r.object_id for r in runs(rule)] == [stale.pk]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert scheduled.run_scheduled(tomorrow) == 1


def test_scheduled_rule_with_deleted_field_is_disabled(env):
    rule = make_rule(env.admin, object_type="opportunities.opportunity", trigger="date_reached", trigger_field="nope")
    scheduled.run_scheduled()
    rule.refresh_from_db()
    assert not rule.is_active and rule.disabled_reason


def test_rules_cache_invalidated_on_save(env):
    rule = make_rule(env.admin)
    assert rule in engine._load()["customers.customer"]
    AutomationRule.objects.filter(pk=rule.pk).delete()
    assert "customers.customer" not in engine._load()


@pytest.mark.skipif(not apps.is_installed("yingdan.integrations"), reason="integrations app not installed")
def test_robot_message_action(env, django_capture_on_commit_callbacks):
    from yingdan.integrations.models import Robot, RobotMessage

    robot = Robot.objects.create(vendor="dingtalk", name="销售群", webhook_url="http://127.0.0.1:9/robot/send")
    rule = make_rule(env.admin, actions=[{"type": "robot", "robot": robot.pk, "title": "新客户", "text": "{{name}} 已建档"}])
    with django_capture_on_commit_callbacks(execute=False):
        make_customer(env.rep, name="己公司")
    engine.execute(rule.pk, "customers.customer", Customer.objects.get(name="己公司").pk, "customers.customer.create")
    message = RobotMessage.objects.get(robot=robot)
    assert message.text == "己公司 已建档" and runs(rule)[0].result == "ok"


def test_robot_action_with_missing_robot_disables_rule(env):
    rule = make_rule(env.admin, actions=[{"type": "robot", "robot": 999999, "text": "x"}])
    customer = make_customer(env.rep)
    run = engine.execute(rule.pk, "customers.customer", customer.pk, "customers.customer.create")
    rule.refresh_from_db()
    assert run.result == "error" and not rule.is_active and rule.disabled_reason


@pytest.mark.skipif(not apps.is_installed("yingdan.integrations"), reason="integrations app not installed")
def test_webhook_action_queues_a_delivery(env, monkeypatch):
    from yingdan.integrations import tasks as integration_tasks
    from yingdan.integrations.models import Webhook, WebhookDelivery

    sent = []
    monkeypatch.setattr(integration_tasks, "deliver_webhooks", lambda ids: sent.extend(ids))
    hook = Webhook.objects.create(name="外部系统", url="http://127.0.0.1:9/hook", events=[])
    rule = make_rule(env.admin, actions=[{"type": "webhook", "webhook": hook.pk, "text": "{{name}}"}])
    customer = make_customer(env.rep, name="庚公司")
    run = engine.execute(rule.pk, "customers.customer", customer.pk, "customers.customer.create")
    delivery = WebhookDelivery.objects.get(webhook=hook)
    assert run.result == "ok" and sent == [delivery.pk]
    assert delivery.payload["id"] == customer.pk and delivery.payload["text"] == "庚公司"
