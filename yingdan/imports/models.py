"""Import jobs (导入): the uploaded file, the options, progress, counts, and one row per written/failed line."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ImportMapping(models.Model):
    """A saved header mapping ({column header: field key}) reusable for later files of the same object."""

    object_type = models.CharField(_("object"), max_length=30)
    name = models.CharField(_("name"), max_length=100)
    columns = models.JSONField(_("columns"), default=dict)
    values = models.JSONField(_("value mappings"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import mapping")
        ordering = ["object_type", "name"]

    def __str__(self):
        return self.name


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    PREVIEWED = "previewed", _("Previewed")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")


class DuplicateMode(models.TextChoices):
    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the existing record")
    CREATE = "create", _("Create anyway")


class ImportJob(models.Model):
    object_type = models.CharField(_("object"), max_length=30)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(_("file name"), max_length=255)
    file_format = models.CharField(_("format"), max_length=10)
    sheet = models.CharField(_("sheet"), max_length=100, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)  # mode, owner, mapping, value maps
    dry_run = models.BooleanField(_("preview only"), default=True)
    status = models.CharField(_("status"), max_length=20, choices=JobStatus.choices, default=JobStatus.UPLOADED)
    header_row = models.PositiveIntegerField(_("header row"), default=1)
    headers = models.JSONField(_("headers"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("processed"), default=0)
    next_row = models.PositiveIntegerField(_("resume from row"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    skipped = models.PositiveIntegerField(_("skipped"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates found"), default=0)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]

    def __str__(self):
        return f"{self.file_name} #{self.pk}"

    def get_absolute_url(self):
        return reverse("imports:job_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in (JobStatus.DONE, JobStatus.PREVIEWED) else 0
        return min(100, int(self.processed_rows * 100 / self.total_rows))

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.PREVIEWED, JobStatus.FAILED, JobStatus.UNDONE)


class RowResult(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class ImportRow(models.Model):
    """What one source row did: failed rows keep the original cells (the error file); written rows keep
    what undo needs (the object, its updated_at after the import, the before-values of an update)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows", db_index=False)  # (importrow_job_idx)
    row_number = models.PositiveIntegerField(_("row"))
    result = models.CharField(_("result"), max_length=10, choices=RowResult.choices)
    error = models.TextField(_("error"), blank=True)
    cells = models.JSONField(_("cells"), default=list, blank=True)
    # [{"model": "customers.customer", "pk": 1, "action": "created"|"updated", "before": {...}, "after_ts": "..."}]
    written = models.JSONField(_("written records"), default=list, blank=True)

    class Meta:
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "result", "row_number"], name="importrow_job_idx")]

    def __str__(self):
        return f"{self.job_id}:{self.row_number}"
