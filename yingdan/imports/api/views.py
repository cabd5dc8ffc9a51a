"""/api/v1/imports/: upload a file (multipart) → a job; poll it; fetch its error file; undo it."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions

from .. import readers, services
from ..importers import importers
from ..models import DuplicateMode, ImportJob, ImportMapping, JobStatus


class ImportCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    object = serializers.ChoiceField(choices=[])
    mode = serializers.CharField(default=DuplicateMode.SKIP, help_text="skip, update or create (what to do with a duplicate)")
    owner_mode = serializers.ChoiceField(choices=["me", "column", "team"], default="me")
    department = serializers.IntegerField(required=False, allow_null=True)
    sheet = serializers.CharField(required=False, allow_blank=True, default="")
    mapping_id = serializers.IntegerField(required=False, allow_null=True)
    dry_run = serializers.BooleanField(default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["object"].choices = sorted(importers)

    def validate_mode(self, value):
        if value not in DuplicateMode.values:
            raise serializers.ValidationError(_("Choose skip, update or create."))
        return value


class ImportMapSerializer(serializers.Serializer):
    columns = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False,
        help_text="{column header (or its 0-based index): field key}; a field takes one column; \"\" leaves a column out. "
                  "Field keys: the template's columns (GET /imports/template/?object=…) or cf_<key>. Default: the automatic mapping.")
    mode = serializers.ChoiceField(choices=DuplicateMode.values, required=False, help_text="What to do with a duplicate.")
    owner_mode = serializers.ChoiceField(choices=["me", "column", "team"], required=False)
    department = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    value_maps = serializers.DictField(child=serializers.DictField(child=serializers.CharField(allow_blank=True)), required=False,
                                       help_text="{field key: {value in the file: value to store}}")
    save_as = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                    help_text="Also save this header mapping under a name (reusable as mapping_id).")


class ImportJobSerializer(serializers.ModelSerializer):
    object = serializers.CharField(source="object_type")
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "object", "file_name", "file_format", "sheet", "status", "dry_run", "options", "header_row",
                  "headers", "total_rows", "processed_rows", "percent", "created", "updated", "skipped", "failed",
                  "duplicates", "message", "preview", "created_at", "started_at", "finished_at", "undone_at"]
        read_only_fields = fields


class UndoResultSerializer(serializers.Serializer):
    removed = serializers.IntegerField()
    restored = serializers.IntegerField()
    kept_count = serializers.IntegerField()
    kept = serializers.ListField(child=serializers.DictField())


def _require_import(user, importer) -> None:
    if not get_permissions(user).has(importer.module, Action.IMPORT):
        raise PermissionDenied()


class ImportJobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Imports (导入) you started. Creating one needs the object's module `import` permission."""

    serializer_class = ImportJobSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    queryset = ImportJob.objects.none()
    filterset_class = None
    filter_backends = []

    def get_queryset(self):
        return ImportJob.objects.filter(created_by=self.request.user).order_by("-id")

    @extend_schema(request={"multipart/form-data": ImportCreateSerializer}, responses={201: ImportJobSerializer})
    def create(self, request):
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > readers.max_bytes() + 1024 * 1024:
            raise serializers.ValidationError({"file": [_("The file is too large; the limit is %(max)d MB.") % {
                "max": readers.max_bytes() // (1024 * 1024)}]})
        ser = ImportCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        options = {"mode": d["mode"], "owner_mode": d["owner_mode"], "department": d.get("department")}
        if d.get("mapping_id"):
            options["mapping_id"] = d["mapping_id"]
        try:
            job = services.create_job(request.user, d["object"], d["file"], options=options, dry_run=d["dry_run"], sheet=d["sheet"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc)) from None
        return Response(ImportJobSerializer(job).data, status=201)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)})
    @action(detail=True, methods=["get"])
    def errors(self, request, pk=None):
        job = self.get_object()
        data, ext = services.error_file(job)
        ctype = "text/csv" if ext == "csv" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(data, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="errors-{job.pk}.{ext}"'
        return response

    @extend_schema(request=None, responses={200: UndoResultSerializer})
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        job = self.get_object()
        try:
            result = services.undo_job(request.user, job)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc)) from None
        return Response(result)

    @extend_schema(request={"application/json": ImportMapSerializer}, responses={200: ImportJobSerializer},
                   summary="Map the columns (and values) of an uploaded file, then preview it (dry run) — the mapping page")
    @action(detail=True, methods=["post"], url_path="map", parser_classes=[JSONParser])
    def map_columns(self, request, pk=None):
        job = self.get_object()
        importer = services.get_importer(job.object_type)
        _require_import(request.user, importer)
        body = ImportMapSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        if job.status not in (JobStatus.UPLOADED, JobStatus.PREVIEWED) or not job.headers:
            raise serializers.ValidationError({"status": [_("This file can no longer be mapped.")]})
        if "columns" in v:
            keys = {f.key for f in importer.fields()}
            mapping, errors = {}, {}
            for column, key in v["columns"].items():
                index = column if column.isdigit() and int(column) < len(job.headers) else None
                if index is None:
                    found = [str(i) for i, h in enumerate(job.headers) if str(h) == column]
                    index = found[0] if found else None
                if index is None:
                    errors[column] = [_("There is no such column in the file.")]
                elif key and key not in keys:
                    errors[column] = [_("Unknown field “%(v)s”.") % {"v": key}]
                elif key and key in mapping.values():
                    errors[column] = [_("A field takes one column.")]
                elif key:
                    mapping[index] = key
            if errors:
                raise serializers.ValidationError({"columns": errors})
            job.options["mapping"] = mapping
        for name in ("mode", "owner_mode", "department", "value_maps"):
            if name in v:
                job.options[name] = v[name]
        job.save(update_fields=["options"])
        if v.get("save_as", "").strip():
            ImportMapping.objects.update_or_create(
                created_by=request.user, object_type=job.object_type, name=v["save_as"].strip()[:100],
                defaults={"columns": {job.headers[int(i)]: k for i, k in job.options.get("mapping", {}).items()},
                          "values": job.options.get("value_maps") or {}})
        job = services.start_job(job, dry_run=True)
        return Response(ImportJobSerializer(job).data)

    @extend_schema(request=None, responses={200: ImportJobSerializer}, summary="Import a previewed file for real (the Run button)")
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser, MultiPartParser])
    def run(self, request, pk=None):
        job = self.get_object()
        _require_import(request.user, services.get_importer(job.object_type))
        if job.status != JobStatus.PREVIEWED:
            raise serializers.ValidationError({"status": [_("Preview the file first.")]})
        job = services.start_job(job, dry_run=False)
        return Response(ImportJobSerializer(job).data)

    @extend_schema(
        parameters=[OpenApiParameter("object", OpenApiTypes.STR, required=True, enum=sorted(importers),
                                     description="What the template is for")],
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(OpenApiTypes.BINARY)},
        summary="The import template (xlsx) of an object",
    )
    @action(detail=False, methods=["get"])
    def template(self, request):
        object_type = request.query_params.get("object", "")
        importer = importers.get(object_type)
        if importer is None:
            raise serializers.ValidationError({"object": [_("Choose what to import.")]})
        _require_import(request.user, importer)
        response = HttpResponse(services.template_file(object_type),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="{object_type}-template.xlsx"'
        return response

    def get_object(self):
        pk = str(self.kwargs["pk"])
        if not (pk.isascii() and pk.isdigit() and int(pk) < 2**63):
            raise Http404  # a non-numeric id is "not found", not a server error
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return job
