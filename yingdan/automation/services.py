"""Configuring rules and brief schedules (web, API and commands alike): settings permission, validation."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from yingdan.core.choices import Action
from yingdan.core.services import require

from . import engine
from .actions import ACTION_TYPES
from .models import AutomationRule, BriefSchedule, Trigger


def clean_rule(rule: AutomationRule) -> None:
    """Raise ValidationError (keyed by field) on anything the engine could not run."""
    errors: dict[str, list] = {}
    if rule.object_type not in dict(engine.object_types()):
        errors.setdefault("object_type", []).append(_("Pick an object."))
    else:
        if rule.trigger in (Trigger.FIELD_CHANGED, Trigger.DATE_REACHED) and not rule.trigger_field:
            errors.setdefault("trigger_field", []).append(_("Pick the field."))
        if rule.trigger == Trigger.STAGE_ENTERED and rule.object_type != "opportunities.opportunity":
            errors.setdefault("trigger", []).append(_("Only opportunities have stages."))
        if rule.trigger == Trigger.NO_FOLLOWUP and rule.offset_days < 1:
            errors.setdefault("offset_days", []).append(_("Give the number of days (1 or more)."))
        conditions = rule.conditions or {}
        if not isinstance(conditions, dict) or conditions.get("logic", "and") not in ("and", "or") or not isinstance(conditions.get("rules", []), list):
            errors.setdefault("conditions", []).append(_("Conditions are {\"logic\": \"and\"|\"or\", \"rules\": [...]}."))
        elif not isinstance(rule.actions, list) or not rule.actions:
            errors.setdefault("actions", []).append(_("Add at least one action."))
        elif any(not isinstance(a, dict) or a.get("type") not in ACTION_TYPES for a in rule.actions):
            errors.setdefault("actions", []).append(_("Unknown action type; one of: %(t)s.") % {"t": ", ".join(ACTION_TYPES)})
        else:
            for cond in engine.iter_conditions(conditions):
                if not isinstance(cond, dict) or "field" not in cond:
                    errors.setdefault("conditions", []).append(_("Each condition needs a field."))
                    break
            else:
                try:
                    engine.validate_rule(rule)
                except engine.RuleConfigError as exc:
                    errors.setdefault("conditions", []).append(str(exc))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def save_rule(actor, rule: AutomationRule) -> AutomationRule:
    require(actor, "settings", Action.EDIT)
    clean_rule(rule)
    if rule.pk is None:
        rule.created_by = actor
    if rule.is_active:
        rule.disabled_reason = ""
    rule.full_clean()
    rule.save()
    return rule


@transaction.atomic
def set_rule_active(actor, rule: AutomationRule, active: bool) -> AutomationRule:
    require(actor, "settings", Action.EDIT)
    if active:
        clean_rule(rule)
        rule.disabled_reason = ""
    rule.is_active = active
    rule.save(update_fields=["is_active", "disabled_reason", "updated_at"])
    return rule


@transaction.atomic
def delete_rule(actor, rule: AutomationRule) -> None:
    require(actor, "settings", Action.EDIT)
    rule.delete()


@transaction.atomic
def save_brief(actor, schedule: BriefSchedule, *, users=None) -> BriefSchedule:
    require(actor, "settings", Action.EDIT)
    if not isinstance(schedule.robot_ids, list) or not all(isinstance(i, int) for i in schedule.robot_ids):
        raise ValidationError({"robot_ids": [_("A list of robot ids.")]})
    if schedule.weekday > 6:
        raise ValidationError({"weekday": [_("0 (Monday) to 6 (Sunday).")]})
    from django.core.validators import validate_email

    for email in [e.strip() for e in schedule.emails.replace(",", "\n").splitlines() if e.strip()]:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError({"emails": [_("Not an e-mail address: %(e)s") % {"e": email}]}) from None
    schedule.full_clean()
    schedule.save()
    if users is not None:
        schedule.users.set(users)
    return schedule


@transaction.atomic
def delete_brief(actor, schedule: BriefSchedule) -> None:
    require(actor, "settings", Action.EDIT)
    schedule.delete()
