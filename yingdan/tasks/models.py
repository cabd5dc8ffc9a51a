"""Tasks (任务): a to-do with an assignee (the owner), a due time, a priority and an optional linked record."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import OwnedModel
from yingdan.core.validators import validate_no_control_chars

# Records a task may be linked to (model labels); other apps may append theirs.
LINKABLE_MODELS = ["customers.customer", "customers.contact", "leads.lead", "opportunities.opportunity"]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)


class Recurrence(models.TextChoices):
    NONE = "", _("Does not repeat")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    EVERY_N_DAYS = "every_n_days", _("Every N days")


class Task(OwnedModel):
    permission_module = "tasks"

    title = models.CharField(_("title"), max_length=200, validators=[validate_no_control_chars])
    description = models.TextField(_("description"), blank=True, validators=[MaxLengthValidator(5000)])
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    target_type = models.ForeignKey(
        ContentType, verbose_name=_("linked record type"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
    )
    target_id = models.PositiveBigIntegerField(_("linked record id"), null=True, blank=True)
    recurrence = models.CharField(_("repeat"), max_length=15, choices=Recurrence.choices, default="", blank=True)
    recurrence_interval = models.PositiveSmallIntegerField(
        _("every N days"), default=1, validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    recurrence_until = models.DateField(_("repeat until"), null=True, blank=True)
    previous = models.OneToOneField(
        "self", verbose_name=_("previous occurrence"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="next_occurrence", editable=False,
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collaborators"), blank=True, related_name="collaborating_tasks",
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_at"], name="task_owner_due_idx"),
            models.Index(fields=["status", "due_at"], name="task_status_due_idx"),
            models.Index(fields=["id", "department", "owner"], name="task_scope_idx"),
            models.Index(fields=["department", "-id"], name="task_dept_idx"),
            models.Index(fields=["target_type", "target_id"], name="task_target_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("tasks:task_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_open and self.due_at and self.due_at < timezone.now())

    @property
    def target(self):
        if not self.target_type_id or not self.target_id:
            return None
        if not hasattr(self, "_target_cache"):
            model = self.target_type.model_class()
            self._target_cache = model._default_manager.filter(pk=self.target_id).first() if model else None
        return self._target_cache

    def next_due(self):
        """The due time of the next occurrence, or None when the task does not repeat (any more)."""
        if not self.recurrence or not self.due_at:
            return None
        due = self.due_at
        if self.recurrence == Recurrence.DAILY:
            nxt = due + datetime.timedelta(days=1)
        elif self.recurrence == Recurrence.WEEKLY:
            nxt = due + datetime.timedelta(weeks=1)
        elif self.recurrence == Recurrence.EVERY_N_DAYS:
            nxt = due + datetime.timedelta(days=max(1, self.recurrence_interval or 1))
        else:
            local = timezone.localtime(due)
            year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
            day = min(local.day, _days_in_month(year, month))
            nxt = local.replace(year=year, month=month, day=day)
        if self.recurrence_until and timezone.localdate(nxt) > self.recurrence_until:
            return None
        return nxt


def _days_in_month(year, month) -> int:
    nxt = datetime.date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - datetime.timedelta(days=1)).day
