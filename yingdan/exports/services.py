"""Exports of any list (ObjectListView) to .xlsx or .csv with the list's filters, the user's column choice, data
scope and field permissions.

The list view itself builds the queryset (scope → filterset → table ordering), so an export shows exactly the
rows and columns the list shows: hidden fields are not columns of the table, hence never exported. Every cell
a spreadsheet would read as a formula (= + - @, tab, CR) gets a leading apostrophe. Up to EXPORT_SYNC_MAX_ROWS
rows stream directly; more run as a huey job that stores the file and notifies the user. Every export writes an
ExportJob row (the audit: who, what, filters, rows, when).
"""

from __future__ import annotations

import csv
import datetime
import decimal
import html
import io
import tempfile
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.http import QueryDict
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django.utils.translation import gettext as _

from yingdan.core import changelog
from yingdan.core.choices import Action, ChangeAction, ChangeSource
from yingdan.core.context import change_context
from yingdan.core.tables import CustomFieldColumn
from yingdan.core.views.generic import ObjectListView

from . import xlsx
from .models import ExportJob
from .rows import FastRows, neutralise

NOTIFY_READY = "export_ready"
IGNORED_PARAMS = ("page", "per_page", "format", "_filters", "csrfmiddlewaretoken")
CHUNK = 2000

# API object names → the list page that defines the export (its filters, columns and scope).
OBJECTS = {
    "customers": "customers:customer_list",
    "contacts": "customers:contact_list",
    "leads": "leads:lead_list",
    "followups": "followups:followup_list",
    "opportunities": "opportunities:opportunity_list",
    "users": "org:user_list",
}


def sync_max_rows() -> int:
    return int(getattr(settings, "EXPORT_SYNC_MAX_ROWS", 5000))


def object_path(name: str) -> str:
    if name not in OBJECTS:
        raise ValidationError({"object": _("Unknown object; one of: %(objects)s.") % {"objects": ", ".join(sorted(OBJECTS))}})
    return reverse(OBJECTS[name])


class Export:
    """The rows and columns of one list for one user, as the list page would show them."""

    def __init__(self, user, list_path: str, params: QueryDict, request=None):
        try:
            match = resolve(list_path.split("?")[0])
        except Resolver404:
            match = None
        view_class = getattr(match.func, "view_class", None) if match else None
        if view_class is None or not issubclass(view_class, ObjectListView) or view_class.table is None:
            raise ValidationError({"list": _("This page cannot be exported.")})
        params = params.copy()
        for key in IGNORED_PARAMS:
            params.pop(key, None)
        if request is None:
            request = SimpleNamespace(user=user, GET=params, method="GET", META={}, headers={}, path=list_path)
        view = view_class()
        view.request, view.args, view.kwargs = request, match.args, match.kwargs
        self.view, self.user, self.list_path = view, user, list_path
        view.check_module_permission(Action.EXPORT)
        qs = view.scoped_queryset(Action.VIEW)
        model = view.model
        custom_fields = model.custom_field_definitions() if hasattr(model, "custom_field_definitions") else []
        saved = view.apply_saved_view(params)
        filterset = view.filterset(params, qs, request=request, custom_fields=custom_fields)
        if not filterset.is_valid():
            raise ValidationError({"filters": [f"{k}: {' '.join(v)}" for k, v in filterset.errors.items()]})
        qs = filterset.qs
        columns = [c for c in params.get("columns", "").split(",") if c] or (saved.columns if saved else None)
        table = view.table(user, custom_fields=custom_fields, columns=columns, ordering=params.get("sort"))
        qs = table.order_queryset(qs)
        if not qs.query.order_by:
            qs = qs.order_by("-pk")
        self.queryset = qs
        self.table = table
        self.columns = table.visible_columns
        self.params = params
        self.object = model._meta.label_lower
        self.model = model

    def filters_dict(self) -> dict:
        return {k: v if len(v) > 1 else v[0] for k, v in self.params.lists() if k != "columns"}

    def count_capped(self, cap: int) -> int:
        return self.queryset.order_by()[: cap + 1].count()

    def header(self) -> list[str]:
        return [neutralise(str(c.label)) for c in self.columns]

    def batches(self):
        """Lists of rows of neutralised cells, a chunk at a time (values_list, see rows.py)."""
        return FastRows(self).batches()

    def rows(self):
        for batch in self.batches():
            yield from batch

    def instance_rows(self):
        """The same rows from model instances, one by one: the reference the fast path is tested against."""
        columns = self.columns
        for row in self.queryset.iterator(chunk_size=CHUNK):
            yield [neutralise(cell(c, row)) for c in columns]


def cell(column, row):
    """One cell of an export from a model instance (the reference; rows.FastRows gives the same from tuples)."""
    if isinstance(column, CustomFieldColumn):
        value = column.value(row)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return value
        return column.definition.display_value(value)
    return cell_value(column.value(row))


def cell_value(value):
    if value is None:
        return ""
    if type(value) is str:
        return value
    if hasattr(value, "all") and callable(value.all):
        return "、".join(str(v) for v in value.all())
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, (datetime.date, int, float, decimal.Decimal)):
        return value
    if isinstance(value, SafeData):
        # Rendered HTML (a stage badge, a link): its text, entities decoded ("A&amp;B" exports as "A&B").
        return html.unescape(strip_tags(str(value)))
    return str(value)


class CsvStream:
    """The csv text of an export (UTF-8 BOM first), a chunk of rows per item; `rows` counts data rows so far."""

    def __init__(self, export: Export):
        self.export, self.rows = export, 0

    def __iter__(self):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow(self.export.header())
        for batch in self.export.batches():
            writer.writerows([[v if v.__class__ is str else _csv_text(v) for v in row] for row in batch])
            self.rows += len(batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()


def csv_stream(export: Export):
    return iter(CsvStream(export))


def _csv_text(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_csv(export: Export, fh) -> int:
    stream = CsvStream(export)
    for chunk in stream:
        fh.write(chunk.encode("utf-8"))
    return stream.rows


def write_xlsx(export: Export, fh) -> int:
    sheet = str(export.model._meta.verbose_name_plural)[:31] or "Sheet1"
    return xlsx.write(fh, sheet, export.header(), export.batches())


def filename(export_or_job, fmt: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    label = getattr(export_or_job, "object", "export").split(".")[-1]
    return f"{label}-{stamp}.{fmt}"


def record_job(user, export: Export, fmt: str, *, background: bool, row_count: int = 0) -> ExportJob:
    job = ExportJob.objects.create(
        user=user, object=export.object, list_path=export.list_path, format=fmt, filters=export.filters_dict(),
        columns=[c.name for c in export.columns], background=background,
        status=ExportJob.Status.PENDING if background else ExportJob.Status.DONE, row_count=row_count,
        finished_at=None if background else timezone.now(),
    )
    changelog.record(job, ChangeAction.CREATE, {"rows": [None, row_count], "filters": [None, job.filters], "object": [None, job.object]})
    return job


def start(user, list_path: str, params: QueryDict, fmt: str, *, request=None, force_job: bool = False):
    """Check and plan an export. Returns (export, job): job is None for a direct export (the caller streams
    `export`; it must call `record_job` with the row count) or a queued background job."""
    if fmt not in ExportJob.Format.values:
        raise ValidationError({"format": _("Unknown format; one of: xlsx, csv.")})
    export = Export(user, list_path, params, request=request)
    if not force_job and export.count_capped(sync_max_rows()) <= sync_max_rows():
        return export, None
    job = record_job(user, export, fmt, background=True)
    from .tasks import run_export_job

    run_export_job(job.pk)
    job.refresh_from_db()
    return export, job


def run_job(job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    if job.status not in (ExportJob.Status.PENDING, ExportJob.Status.FAILED):
        return job
    with change_context(user=job.user, source=ChangeSource.SYSTEM):
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
        params = QueryDict(mutable=True)
        for key, value in (job.filters or {}).items():
            params.setlist(key, value if isinstance(value, list) else [str(value)])
        if job.columns:
            params["columns"] = ",".join(job.columns)
        try:
            export = Export(job.user, job.list_path, params)
            with tempfile.TemporaryFile() as fh:
                rows = write_xlsx(export, fh) if job.format == ExportJob.Format.XLSX else write_csv(export, fh)
                fh.seek(0)
                job.file.save(filename(job, job.format), File(fh), save=False)
        except (PermissionDenied, ValidationError) as exc:
            job.status, job.error, job.finished_at = ExportJob.Status.FAILED, str(exc), timezone.now()
            job.save(update_fields=["status", "error", "finished_at"])
            return job
        job.status, job.row_count, job.finished_at = ExportJob.Status.DONE, rows, timezone.now()
        job.save(update_fields=["status", "row_count", "file", "finished_at"])
        from yingdan.notifications.services import notify

        notify([job.user], NOTIFY_READY, _("Your export is ready"), body=_("%(rows)s rows") % {"rows": rows},
               url=job.get_download_url(), target=job, dedupe_key=f"export:{job.pk}")
    return job
