"""Export pages: start an export of a list (/exports/new/?path=<list path>&<list query>&format=csv|xlsx),
the user's exports (administrators see everyone's: the audit), and the owner-only download."""

from __future__ import annotations

import tempfile

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from yingdan.core.permissions import get_permissions
from yingdan.core.views.generic import is_local_url

from . import services
from .models import ExportJob


def can_audit(user) -> bool:
    return get_permissions(user).has("settings", "view")


class ExportView(LoginRequiredMixin, View):
    def get(self, request):
        params = request.GET.copy()
        path = params.pop("path", [""])[0]
        fmt = params.pop("format", ["xlsx"])[0]
        if not is_local_url(path):
            return HttpResponseBadRequest(_("This page cannot be exported."))
        try:
            export, job = services.start(request.user, path, params, fmt)
        except ValidationError as exc:
            return HttpResponseBadRequest("; ".join(exc.messages))
        if job is not None:
            messages.info(request, _("The export runs in the background; you will be notified when it is ready."))
            return redirect("exports:export_list")
        name = services.filename(export, fmt)
        if fmt == "csv":
            # Audited before the first byte (a dropped download is still recorded); the count is set at the end.
            audit_row = services.record_job(request.user, export, fmt, background=False)

            def stream():
                csv_text = services.CsvStream(export)
                yield from csv_text
                ExportJob.objects.filter(pk=audit_row.pk).update(row_count=csv_text.rows)

            response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
        else:
            fh = tempfile.TemporaryFile()
            rows = services.write_xlsx(export, fh)
            fh.seek(0)
            services.record_job(request.user, export, fmt, background=False, row_count=rows)
            response = FileResponse(fh, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ExportListView(LoginRequiredMixin, View):
    def get(self, request):
        audit = can_audit(request.user) and request.GET.get("all") == "1"
        qs = ExportJob.objects.select_related("user")
        if not audit:
            qs = qs.filter(user=request.user)
        page = Paginator(qs.order_by("-id"), 50).get_page(request.GET.get("page"))
        return render(request, "exports/export_list.html", {"page": page, "audit": audit, "can_audit": can_audit(request.user)})


class ExportDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        job = get_object_or_404(ExportJob, pk=pk, user=request.user)
        if job.status != ExportJob.Status.DONE or not job.file:
            raise Http404
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])
