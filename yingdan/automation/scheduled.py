"""Date and no-follow-up triggers: a periodic job, one set-based query per rule, each record fired at most
once per rule per day (RuleRun's unique dedupe key)."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.utils import timezone

from .engine import RuleConfigError, check_field, disable, evaluate, execute, model_for
from .models import AutomationRule, RuleRun, Trigger

BATCH = 2000


def candidates(rule, today):
    """The queryset of records the scheduled rule is due for on `today`."""
    model = model_for(rule.object_type)
    if model is None:
        raise RuleConfigError("object")
    if rule.trigger == Trigger.DATE_REACHED:
        check_field(rule.object_type, rule.trigger_field)
        field = model._meta.get_field(rule.trigger_field)
        target = today - timedelta(days=rule.offset_days)  # offset -3: three days before the date
        if isinstance(field, models.DateTimeField):
            tz = timezone.get_current_timezone()
            start = timezone.make_aware(timezone.datetime.combine(target, timezone.datetime.min.time()), tz)
            return model.objects.filter(**{f"{field.name}__gte": start, f"{field.name}__lt": start + timedelta(days=1)})
        return model.objects.filter(**{field.name: target})
    if rule.trigger == Trigger.NO_FOLLOWUP:
        check_field(rule.object_type, "last_contact_at")
        cutoff = timezone.now() - timedelta(days=max(rule.offset_days, 1))
        return model.objects.filter(models.Q(last_contact_at__lt=cutoff)
                                    | models.Q(last_contact_at__isnull=True, created_at__lt=cutoff))
    return model.objects.none()


def run_rule_for_date(rule, today=None) -> int:
    today = today or timezone.localdate()
    key = today.isoformat()
    try:
        qs = candidates(rule, today)
    except RuleConfigError as exc:
        disable(rule, str(exc))
        return 0
    done = set(RuleRun.objects.filter(rule=rule, dedupe_key=key).values_list("object_id", flat=True))
    fired = 0
    for obj in qs.order_by("pk").iterator(chunk_size=BATCH):
        if obj.pk in done:
            continue
        try:
            if not evaluate(rule.conditions, obj):
                continue
        except RuleConfigError as exc:
            disable(rule, str(exc))
            return fired
        execute(rule.pk, rule.object_type, obj.pk, f"automation.{rule.trigger}", (), dedupe_key=key)
        fired += 1
    return fired


def run_scheduled(today=None) -> int:
    total = 0
    for rule in AutomationRule.objects.filter(is_active=True, trigger__in=[Trigger.DATE_REACHED, Trigger.NO_FOLLOWUP]):
        total += run_rule_for_date(rule, today)
    return total
