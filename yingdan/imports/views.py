"""Import pages: upload → mapping (HTMX) → preview with progress → import → summary, error file, undo."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions

from . import readers, services
from .importers import importers
from .models import DuplicateMode, ImportJob, ImportMapping


def allowed_objects(user) -> list:
    perms = get_permissions(user)
    return [(k, imp.label) for k, imp in importers.items() if perms.has(imp.module, Action.IMPORT)]


def _job(request, pk) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("created_by"), pk=pk)
    if job.created_by_id != request.user.pk and not request.user.is_superuser:
        raise Http404
    return job


class UploadForm(forms.Form):
    object_type = forms.ChoiceField(label=gettext_lazy("Import"))
    file = forms.FileField(label=gettext_lazy("File (.xlsx, .xls, .csv)"))
    sheet = forms.CharField(label=gettext_lazy("Sheet"), required=False)
    mapping_id = forms.ChoiceField(label=gettext_lazy("Saved mapping"), required=False)

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = allowed_objects(user)
        self.fields["mapping_id"].choices = [("", "—")] + [
            (m.pk, f"{importers[m.object_type].label if m.object_type in importers else m.object_type} · {m.name}")
            for m in ImportMapping.objects.filter(created_by=user)]


@login_required
def job_list(request):
    objects = allowed_objects(request.user)
    if not objects:
        raise PermissionDenied
    jobs = ImportJob.objects.filter(created_by=request.user).order_by("-id")[:100]
    return render(request, "imports/job_list.html", {"jobs": jobs, "objects": objects})


@login_required
def upload(request):
    if not allowed_objects(request.user):
        raise PermissionDenied
    initial = {"object_type": request.GET.get("object", "")}
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > readers.max_bytes() + 1024 * 1024:  # refused before the body is read
            form = UploadForm(request.user, initial=initial)
            form.errors["file"] = form.error_class([_("The file is too large; the limit is %(max)d MB.") % {"max": readers.max_bytes() // (1024 * 1024)}])
            return render(request, "imports/upload.html", {"form": form}, status=413)
        form = UploadForm(request.user, request.POST, request.FILES)
        if form.is_valid():
            options = {}
            if form.cleaned_data.get("mapping_id"):
                options["mapping_id"] = int(form.cleaned_data["mapping_id"])
            try:
                job = services.create_job(request.user, form.cleaned_data["object_type"], form.cleaned_data["file"],
                                          options=options, sheet=form.cleaned_data["sheet"].strip(), start=False)
            except ValidationError as exc:
                for msg in exc.messages:
                    form.add_error("file", msg)
            else:
                return redirect("imports:job_map", job.pk)
    else:
        form = UploadForm(request.user, initial=initial)
    return render(request, "imports/upload.html", {"form": form})


def _mapping_context(job):
    importer = services.get_importer(job.object_type)
    mapping = job.options.get("mapping", {})
    columns = [{"index": i, "header": h, "field": mapping.get(str(i), "")} for i, h in enumerate(job.headers)]
    mapped = set(mapping.values())
    missing = [f for f in importer.fields() if f.required and f.key not in mapped]
    from yingdan.org.models import Department

    return {
        "job": job, "columns": columns, "fields": importer.fields(), "missing": missing,
        "modes": DuplicateMode.choices, "departments": Department.objects.order_by("path")[:500],
        "value_maps": "\n".join(f"{k}: {src} = {dst}" for k, m in (job.options.get("value_maps") or {}).items() for src, dst in m.items()),
    }


def _parse_value_maps(text: str) -> dict:
    """Lines "field: source = target id" → {field: {source: target}}."""
    out = {}
    for line in (text or "").splitlines():
        if ":" in line and "=" in line:
            field, rest = line.split(":", 1)
            src, dst = rest.split("=", 1)
            out.setdefault(field.strip(), {})[src.strip()] = dst.strip()
    return out


@login_required
def job_map(request, pk):
    job = _job(request, pk)
    importer = services.get_importer(job.object_type)
    if request.method == "POST":
        keys = {f.key for f in importer.fields()}
        mapping = {}
        for i in range(len(job.headers)):
            key = request.POST.get(f"col_{i}", "")
            if key in keys and key not in mapping.values():
                mapping[str(i)] = key
        job.options["mapping"] = mapping
        mode = request.POST.get("mode", "skip")
        job.options["mode"] = mode if mode in DuplicateMode.values else "skip"
        owner_mode = request.POST.get("owner_mode", "me")
        job.options["owner_mode"] = owner_mode if owner_mode in ("me", "column", "team") else "me"
        job.options["department"] = request.POST.get("department") or None
        job.options["value_maps"] = _parse_value_maps(request.POST.get("value_maps", ""))
        job.save(update_fields=["options"])
        if request.headers.get("HX-Request") and "preview" not in request.POST:
            return render(request, "imports/_mapping.html", _mapping_context(job))
        name = request.POST.get("save_as", "").strip()
        if name:
            ImportMapping.objects.update_or_create(
                created_by=request.user, object_type=job.object_type, name=name[:100],
                defaults={"columns": {job.headers[int(i)]: k for i, k in mapping.items()}, "values": job.options["value_maps"]})
        services.start_job(job, dry_run=True)
        return redirect("imports:job_detail", job.pk)
    return render(request, "imports/map.html", _mapping_context(job))


@login_required
def job_detail(request, pk):
    job = _job(request, pk)
    ctx = {"job": job, "can_undo": services.can_undo(request.user, job),
           "failed_rows": job.rows.filter(result="failed").order_by("row_number")[:50]}
    if request.headers.get("HX-Request"):
        return render(request, "imports/_progress.html", ctx)
    return render(request, "imports/job_detail.html", ctx)


@login_required
@require_POST
def job_run(request, pk):
    job = _job(request, pk)
    if job.status != "previewed":
        messages.error(request, _("Preview the file first."))
    else:
        services.start_job(job, dry_run=False)
    return redirect("imports:job_detail", job.pk)


@login_required
@require_POST
def job_undo(request, pk):
    job = _job(request, pk)
    try:
        result = services.undo_job(request.user, job)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Undone: %(r)d removed, %(u)d restored, %(k)d changed since and left alone.") % {
            "r": result["removed"], "u": result["restored"], "k": result["kept_count"]})
    return redirect("imports:job_detail", job.pk)


@login_required
def job_errors(request, pk):
    job = _job(request, pk)
    data, ext = services.error_file(job)
    return _download(data, ext, f"errors-{job.pk}.{ext}")


@login_required
def template(request, object_type):
    if object_type not in dict(allowed_objects(request.user)):
        raise PermissionDenied
    return _download(services.template_file(object_type), "xlsx", f"{object_type}-template.xlsx")


def _download(data: bytes, ext: str, filename: str) -> HttpResponse:
    ctype = "text/csv; charset=utf-8" if ext == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(data, content_type=ctype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
