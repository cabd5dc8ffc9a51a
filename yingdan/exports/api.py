"""/api/v1/exports/ — start an export of a list as a job, read its status and file URL."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api

from . import services
from .models import ExportJob


class ExportJobSerializer(serializers.ModelSerializer):
    file_url = serializers.SerializerMethodField(help_text="Download URL (owner only) once the status is done.")

    class Meta:
        model = ExportJob
        fields = ["id", "object", "format", "filters", "columns", "status", "row_count", "error", "file_url", "created_at", "finished_at"]
        read_only_fields = fields

    def get_file_url(self, obj) -> str | None:
        if obj.status != ExportJob.Status.DONE or not obj.file:
            return None
        request = self.context.get("request")
        url = obj.get_download_url()
        return request.build_absolute_uri(url) if request else url


class ExportRequestSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=sorted(services.OBJECTS), help_text=_("The list to export."))
    format = serializers.ChoiceField(choices=ExportJob.Format.values, default="xlsx")
    filters = serializers.DictField(required=False, default=dict, help_text=_("The same query parameters as the list."))
    columns = serializers.ListField(child=serializers.CharField(), required=False, default=list)


class ExportJobViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Exports run as background jobs with the list's filters, the user's data scope and field permissions
    (hidden fields are never exported). Needs the module's `export` action."""

    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.all()
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return ExportJob.objects.filter(user=self.request.user).order_by("-id")

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportJobSerializer})
    def create(self, request, *args, **kwargs):
        data = ExportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        params = QueryDict(mutable=True)
        for key, value in data.validated_data["filters"].items():
            params.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
        if data.validated_data["columns"]:
            params["columns"] = ",".join(data.validated_data["columns"])
        try:
            path = services.object_path(data.validated_data["object"])
            _export, job = services.start(request.user, path, params, data.validated_data["format"], force_job=True)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response(ExportJobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register("exports", ExportJobViewSet, basename="export")
