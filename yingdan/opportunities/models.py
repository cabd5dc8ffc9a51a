"""Sales process: pipelines, stages (with SOP checklists), opportunities (商机) and their stage history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import BusinessModel, ChangeLoggedModel, CustomFieldsMixin, Lookup, OwnedModel
from yingdan.core.models.base import ScopedQuerySet
from yingdan.core.validators import validate_no_control_chars


class StageKind(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", _("Pipeline")
    BEST_CASE = "best_case", _("Best case")
    COMMIT = "commit", _("Commit")
    CLOSED = "closed", _("Closed")
    OMITTED = "omitted", _("Omitted")


class Pipeline(BusinessModel):
    permission_module = "pipelines"

    name = models.CharField(_("name"), max_length=100, unique=True, validators=[validate_no_control_chars])
    description = models.CharField(_("description"), max_length=255, blank=True)
    departments = models.ManyToManyField(
        "org.Department", verbose_name=_("departments"), blank=True, related_name="pipelines",
        help_text=_("Departments that use this pipeline. Empty: everyone."),
    )
    order = models.IntegerField(_("order"), default=100)
    is_default = models.BooleanField(_("default"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("opportunities:pipeline_detail", args=[self.pk])


class Stage(ChangeLoggedModel):
    permission_module = "pipelines"
    objects = ScopedQuerySet.as_manager()

    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100, validators=[validate_no_control_chars])
    order = models.IntegerField(_("order"), default=100)
    color = models.CharField(_("colour"), max_length=20, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    forecast_category = models.CharField(
        _("forecast category"), max_length=20, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    time_limit_days = models.PositiveIntegerField(
        _("time limit (days)"), null=True, blank=True, help_text=_("A deal longer than this in the stage is stalled.")
    )
    required_fields = models.JSONField(_("fields required to enter"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="opp_stage_unique_name",
                                    violation_error_message=_("This pipeline already has a stage with this name.")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("opportunities:stage_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()


class ChecklistItem(ChangeLoggedModel):
    """An SOP step of a stage: done before the deal may leave the stage (when required)."""

    permission_module = "pipelines"
    objects = ScopedQuerySet.as_manager()

    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(_("item"), max_length=200)
    order = models.IntegerField(_("order"), default=100)
    required = models.BooleanField(_("required"), default=True)
    needs_note = models.BooleanField(_("needs a note"), default=False)
    needs_attachment = models.BooleanField(_("needs an attachment"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["stage", "order", "id"]

    def __str__(self):
        return self.text

    def get_absolute_url(self):
        return reverse("opportunities:checklistitem_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()


class LossReason(ChangeLoggedModel):
    """Two-level list of loss reasons (a reason may have a parent)."""

    permission_module = "settings"
    objects = ScopedQuerySet.as_manager()

    parent = models.ForeignKey("self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name = models.CharField(_("name"), max_length=100)
    order = models.IntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("loss reason")
        verbose_name_plural = _("loss reasons")
        ordering = ["order", "id"]

    def __str__(self):
        return f"{self.parent} / {self.name}" if self.parent_id else self.name

    def get_absolute_url(self):
        return reverse("opportunities:lossreason_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()


class Competitor(ChangeLoggedModel):
    permission_module = "settings"
    objects = ScopedQuerySet.as_manager()

    name = models.CharField(_("name"), max_length=100, unique=True)
    website = models.URLField(_("website"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("opportunities:competitor_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()


class Opportunity(CustomFieldsMixin, OwnedModel):
    permission_module = "opportunities"

    name = models.CharField(_("name"), max_length=200, validators=[validate_no_control_chars])
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="opportunities"
    )
    contacts = models.ManyToManyField("customers.Contact", verbose_name=_("contacts"), blank=True, related_name="opportunities")
    amount = models.DecimalField(
        _("amount"), max_digits=14, decimal_places=2, default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("999999999999"))],
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close = models.DateField(_("expected close date"), null=True, blank=True)
    pipeline = models.ForeignKey(Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="opportunities")
    stage = models.ForeignKey(Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities")
    state = models.CharField(_("state"), max_length=10, choices=StageKind.choices, default=StageKind.OPEN, editable=False)
    probability = models.PositiveSmallIntegerField(
        _("win probability (%)"), default=10, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collaborators"), blank=True, related_name="collaborating_opportunities"
    )
    source = models.ForeignKey(
        Lookup, verbose_name=_("source"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "opportunity_source", "is_active": True},
    )
    next_step = models.CharField(_("next step"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True, validators=[MaxLengthValidator(5000)])
    stage_entered_at = models.DateTimeField(_("in stage since"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    loss_reason = models.ForeignKey(LossReason, verbose_name=_("loss reason"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    competitor = models.ForeignKey(Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    loss_note = models.CharField(_("loss note"), max_length=500, blank=True)
    # Bumped by every stage move: a kanban drop carries the version it saw, a stale one is refused.
    version = models.PositiveIntegerField(default=0, editable=False)
    # The furthest stage the deal has reached (an open stage, or won; entering "lost" does not move it): kept by
    # `rollup.on_stage_change` from the stage history, read by the conversion report (one GROUP BY over deals).
    furthest_stage = models.ForeignKey(Stage, on_delete=models.SET_NULL, null=True, blank=True, editable=False, db_index=False, related_name="+")

    changelog_exclude = ("version", "furthest_stage")

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="opp_owner_idx"),
            models.Index(fields=["id", "department", "owner"], name="opp_scope_idx"),
            models.Index(fields=["pipeline", "stage", "-id"], name="opp_board_idx"),
            models.Index(fields=["pipeline", "state", "expected_close"], name="opp_forecast_idx"),
            models.Index(fields=["customer", "-id"], name="opp_customer_idx"),
            models.Index(fields=["state", "closed_at"], name="opp_closed_idx"),
            # The list sorted by amount (largest deals first) walks this instead of sorting the whole scope.
            models.Index(fields=["amount", "id"], name="opp_amount_idx"),
            # Reports: "does this user own deals outside their departments?" answered from the index alone.
            models.Index(fields=["owner", "department"], name="opp_owner_dept_idx"),
            # Conversion report: deals of a pipeline created in the period, by furthest stage, within a scope —
            # answered from the index alone.
            models.Index(fields=["pipeline", "created_at", "furthest_stage", "department", "owner"], name="opp_cohort_idx"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("opportunities:opportunity_detail", args=[self.pk])


class ChecklistCompletion(models.Model):
    """A checklist item done for one opportunity (with the note / attachment the item may require)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="checklist_done")
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(_("note"), max_length=500, blank=True)
    attachment = models.ForeignKey("core.Attachment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    done_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["opportunity", "item"], name="opp_checklist_once")]

    def __str__(self):
        return f"{self.opportunity_id}:{self.item_id}"


class StageChange(models.Model):
    """One move of an opportunity between stages (append-only history for the funnel and cycle reports)."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Denormalised for the reports: the owner and department of the deal at the time of the move.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    department = models.ForeignKey("org.Department", on_delete=models.SET_NULL, null=True, related_name="+")
    changed_at = models.DateTimeField(db_index=True)
    seconds_in_previous = models.BigIntegerField(null=True, blank=True)
    checklist_complete = models.BooleanField(default=True)
    days_over_limit = models.FloatField(default=0)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["opportunity", "changed_at"], name="stagechange_opp_idx"),
            models.Index(fields=["pipeline", "changed_at"], name="stagechange_pipe_idx"),
            models.Index(fields=["owner", "changed_at"], name="stagechange_owner_idx"),
            # Reports: "did this user move deals while outside their departments?" answered from the index alone.
            models.Index(fields=["owner", "department"], name="stagechange_owner_dept_idx"),
        ]

    def __str__(self):
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class StageMonth(models.Model):
    """Monthly sums of the stage moves out of a stage (StageChange rows with a from_stage), per pipeline, department
    and owner (denormalised as on StageChange) — what the days-in-stage and SOP-compliance reports read for the
    whole months of their period instead of the 3M-row history. Kept by `rollup.on_stage_change` (every
    StageChange saved or deleted adds or subtracts itself); bulk loads call `rollup.rebuild()`. Rows are partial
    sums: the same key may appear more than once (two concurrent first moves of a month), readers always Sum."""

    month = models.DateField()  # first day of the month, local time
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("org.Department", on_delete=models.SET_NULL, null=True, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # CASCADE: a stage can only be deleted once no history row leaves it (those PROTECT it), so its sums are zero.
    from_stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    moves = models.IntegerField(default=0)
    timed_moves = models.IntegerField(default=0)  # moves with seconds_in_previous
    seconds = models.BigIntegerField(default=0)
    complete = models.IntegerField(default=0)  # checklist_complete
    over_limit = models.IntegerField(default=0)  # days_over_limit > 0
    days_over = models.FloatField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["month", "pipeline"], name="stagemonth_month_idx"),
            models.Index(fields=["department", "month"], name="stagemonth_dept_idx"),
            models.Index(fields=["owner", "month"], name="stagemonth_owner_idx"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.pipeline_id}/{self.from_stage_id}: {self.moves}"
