"""Automation rules: what rule evaluation adds to a record save with 100 active rules (target < 5 ms), the
whole customer save with and without them, and the set-based query behind the date / no-follow-up triggers."""

from __future__ import annotations

from django.db import transaction

N_RULES = 100


class _Rollback(Exception):
    pass


def _rules(user) -> list:
    """100 active customer rules of every kind; conditions that hold on few records (as in real use)."""
    rules = []
    for i in range(N_RULES):
        kind = i % 4
        if kind == 0:
            trigger, field = "updated", ""
        elif kind == 1:
            trigger, field = "field_changed", ["city", "address", "phone", "level"][i % 4]
        elif kind == 2:
            trigger, field = "created", ""
        else:
            trigger, field = "field_changed", "remarks"
        rules.append(dict(
            name=f"bench-rule-{i}", object_type="customers.customer", trigger=trigger, trigger_field=field,
            conditions={"logic": "and", "rules": [
                {"field": "name", "op": "contains", "value": f"不存在的名字{i}"},
                {"logic": "or", "rules": [{"field": "city", "op": "eq", "value": "上海"},
                                          {"field": "owner", "op": "in", "value": [1, 2, 3]}]},
            ]},
            actions=[{"type": "notify", "owner": True}], is_active=True, created_by=user,
        ))
    return rules


def run(ctx) -> dict:
    import datetime

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from yingdan.automation import engine, scheduled
    from yingdan.automation.models import AutomationRule
    from yingdan.core import context
    from yingdan.core.choices import ChangeSource
    from yingdan.core.events import Event
    from yingdan.customers.models import Customer
    from yingdan.customers.services import save_customer

    # The saves are made by an in-memory superuser: what is measured is the rules' cost, not the manager's scope.
    actor = get_user_model()(username="bench-automation", is_superuser=True, is_active=True)
    results = {}
    AutomationRule.objects.filter(name__startswith="bench-").delete()
    ids = list(Customer.objects.visible_to(ctx.user).order_by("-id").values_list("pk", flat=True)[:200])
    if not ids:
        from benchmarks.harness import BenchError

        raise BenchError("automation: no customer in the manager's scope")

    def save(i):
        customer = Customer.objects.get(pk=ids[i % len(ids)])
        customer.address = f"自动化基准路{i}号"
        try:
            with transaction.atomic(), context.change_context(user=ctx.user, source=ChangeSource.WEB):
                save_customer(actor, customer, confirm_duplicates=True)
                raise _Rollback
        except _Rollback:
            pass

    engine.invalidate()
    results |= ctx.time_call("customer_save_0_rules", save, target_ms=200)
    created = AutomationRule.objects.bulk_create([AutomationRule(**r) for r in _rules(ctx.user)])
    engine.invalidate()
    try:
        instance = Customer.objects.get(pk=ids[0])
        event = Event(name="customers.customer.update", model_label="customers.customer", object_id=instance.pk,
                      action="update", changes={"address": ["a", "b"], "city": ["北京", "杭州"]}, instance=instance)
        engine._load()
        results |= ctx.time_call("rule_matching_100_rules_per_save", lambda i: engine.on_event(event), target_ms=5, n=500)
        results |= ctx.time_call("customer_save_100_rules", save, target_ms=200)
        # the date / no-follow-up triggers: one set-based query per rule
        stale = AutomationRule.objects.create(name="bench-stale", object_type="customers.customer", trigger="no_followup",
                                              offset_days=30, actions=[{"type": "notify", "owner": True}],
                                              created_by=ctx.user)
        closing = AutomationRule.objects.create(name="bench-closing", object_type="opportunities.opportunity",
                                                trigger="date_reached", trigger_field="expected_close", offset_days=-3,
                                                actions=[{"type": "notify", "owner": True}], created_by=ctx.user)
        today = timezone.localdate()
        results |= ctx.time_call("no_followup_30d_candidates_count",
                                 lambda i: scheduled.candidates(stale, today).count(), target_ms=5000, n=3)
        results |= ctx.time_call("expected_close_in_3d_candidates_count",
                                 lambda i: scheduled.candidates(closing, today + datetime.timedelta(days=i)).count(),
                                 target_ms=1000, n=5)
    finally:
        AutomationRule.objects.filter(pk__in=[r.pk for r in created]).delete()
        AutomationRule.objects.filter(name__startswith="bench-").delete()
        engine.invalidate()
    return results
