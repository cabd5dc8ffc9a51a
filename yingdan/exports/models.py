"""ExportJob: one row per export (direct or background) — the audit of who exported what, with which filters,
how many rows and when; for background exports also the file and its status."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV (.csv)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="export_jobs")
    object = models.CharField(_("object"), max_length=100, help_text=_("The list exported, e.g. customers.customer"))
    list_path = models.CharField(_("list"), max_length=200)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, default=Format.XLSX)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    background = models.BooleanField(_("background job"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True, max_length=300)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="export_user_idx")]

    def __str__(self):
        return f"{self.object} #{self.pk}"

    def get_absolute_url(self):
        return reverse("exports:export_list")

    def get_download_url(self):
        return reverse("exports:export_download", args=[self.pk])
