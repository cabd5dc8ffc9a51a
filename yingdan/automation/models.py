"""Automation rules (when X happens to a record and the conditions hold, do these actions), their run log,
and the sales-brief schedules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import ChangeLoggedModel, ScopedQuerySet


class Trigger(models.TextChoices):
    CREATED = "created", _("Record created")
    UPDATED = "updated", _("Record updated")
    FIELD_CHANGED = "field_changed", _("A field changed")
    STAGE_ENTERED = "stage_entered", _("Stage entered")
    DATE_REACHED = "date_reached", _("A date is reached")
    NO_FOLLOWUP = "no_followup", _("No follow-up for N days")


SCHEDULED_TRIGGERS = {Trigger.DATE_REACHED, Trigger.NO_FOLLOWUP}


class AutomationRule(ChangeLoggedModel):
    """conditions: {"logic": "and"|"or", "rules": [{"field", "op", "value"} | {"logic", "rules": [...]}]};
    actions: [{"type": "notify"|"create_task"|"set_field"|"assign"|"robot", ...}]."""

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("object"), max_length=100, db_index=True)
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    trigger_field = models.CharField(_("field"), max_length=100, blank=True)
    trigger_value = models.JSONField(_("to value"), null=True, blank=True)
    offset_days = models.IntegerField(_("offset (days)"), default=0,
                                      help_text=_("Negative: before the date (e.g. -3 = 3 days before)."))
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("disabled reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    permission_module = "settings"
    objects = ScopedQuerySet.as_manager()

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()  # configuration: whoever has the settings permission sees all of it

    class Meta:
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("automation:rule_detail", args=[self.pk])


class RunResult(models.TextChoices):
    OK = "ok", _("OK")
    SKIPPED = "skipped", _("Skipped")
    ERROR = "error", _("Error")


class RuleRun(models.Model):
    rule = models.ForeignKey(AutomationRule, verbose_name=_("rule"), on_delete=models.CASCADE, related_name="runs")
    object_type = models.CharField(_("object"), max_length=100)
    object_id = models.BigIntegerField(_("record id"), null=True)
    event = models.CharField(_("event"), max_length=150, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=RunResult.choices)
    message = models.TextField(_("message"), blank=True)
    dedupe_key = models.CharField(max_length=60, null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rule run")
        verbose_name_plural = _("rule runs")
        ordering = ["-id"]
        indexes = [models.Index(fields=["rule", "-id"], name="autorun_rule_idx")]
        constraints = [models.UniqueConstraint(fields=["rule", "object_id", "dedupe_key"], name="autorun_dedupe",
                                               condition=models.Q(dedupe_key__isnull=False))]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.object_type}#{self.object_id} {self.result}"


class Frequency(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")


class BriefSchedule(ChangeLoggedModel):
    name = models.CharField(_("name"), max_length=100)
    department = models.ForeignKey("org.Department", verbose_name=_("team"), on_delete=models.CASCADE,
                                   null=True, blank=True, related_name="+", help_text=_("Empty: the whole company."))
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    weekday = models.PositiveSmallIntegerField(_("weekday"), default=0, help_text=_("0 = Monday (weekly briefs)."))
    send_time = models.TimeField(_("time"))
    robot_ids = models.JSONField(_("robots"), default=list, blank=True)
    emails = models.TextField(_("e-mail addresses"), blank=True, help_text=_("One per line or comma-separated."))
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="+")
    is_active = models.BooleanField(_("active"), default=False)
    last_period = models.CharField(_("last period sent"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    permission_module = "settings"
    objects = ScopedQuerySet.as_manager()

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()  # configuration: whoever has the settings permission sees all of it

    class Meta:
        verbose_name = _("sales brief")
        verbose_name_plural = _("sales briefs")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("automation:brief_detail", args=[self.pk])
