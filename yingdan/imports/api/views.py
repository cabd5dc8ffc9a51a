"""/api/v1/imports/: upload a file (multipart) → a job; poll it; fetch its error file; undo it."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api

from .. import readers, services
from ..importers import importers
from ..models import DuplicateMode, ImportJob


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

    def get_object(self):
        pk = str(self.kwargs["pk"])
        if not (pk.isascii() and pk.isdigit() and int(pk) < 2**63):
            raise Http404  # a non-numeric id is "not found", not a server error
        job = self.get_queryset().filter(pk=pk).first()
        if job is None:
            raise Http404
        return job
