"""What every record has besides its own endpoint: saved list views, attachments and the timeline.

- `/api/v1/saved-views/` — the caller's own saved list views (filters, columns, default), the same service as the
  list pages' "save view" (`core.services.save_view`). Every signed-in user manages their own; nobody else's.
- `/api/v1/attachments/{id}/` — a file's details; `/download/` streams it. Visible when the record it belongs to is
  visible to the caller (the web download's rule, `can_view_target`); otherwise 404, as if it did not exist.
- `/api/v1/timeline/{app_label.model}/{id}/?before=` — one page of a record's timeline (the customer 360 page's,
  a lead's ...), newest first, with the cursor of the next page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, renderers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse as api_reverse

from .. import services, timeline
from ..exceptions import row_id_or_404
from ..models import Attachment, SavedView
from ..views.files import can_view_target
from .viewsets import ApiBehaviourMixin


def _api_error(exc: DjangoValidationError) -> ApiValidationError:
    return ApiValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages})


# -- saved views ---------------------------------------------------------------------------------------
class SavedViewSerializer(serializers.ModelSerializer):
    query = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                  help_text="The list's filters as a query string, e.g. level=3&owner=7.")
    columns = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=50,
                                    help_text="Column keys shown, in order; empty: the list's defaults.")

    class Meta:
        model = SavedView
        fields = ["id", "list_key", "name", "query", "columns", "is_default", "created_at"]
        read_only_fields = ["id", "created_at"]


class SavedViewViewSet(ApiBehaviourMixin, viewsets.ModelViewSet):
    """The caller's saved list views. `list_key` names the list (e.g. `customers.customer`); a name is unique per
    list; at most one default per list (saving a default clears the others)."""

    permission_module = None  # one's own views: signing in is enough
    serializer_class = SavedViewSerializer
    queryset = SavedView.objects.all()
    filterset_fields = ["list_key", "is_default"]
    ordering_fields = ["list_key", "name", "created_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SavedView.objects.none()
        return SavedView.objects.filter(user=self.request.user).order_by("list_key", "name")

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=row_id_or_404(self.kwargs.get("pk")))

    def _save(self, serializer, view=None):
        data = {**({} if view is None else {"list_key": view.list_key, "name": view.name, "query": view.query,
                                               "columns": view.columns, "is_default": view.is_default}),
                **serializer.validated_data}
        try:
            serializer.instance = services.save_view(
                self.request.user, list_key=data.get("list_key", ""), name=data.get("name", ""),
                query=data.get("query", ""), columns=data.get("columns") or [], is_default=bool(data.get("is_default")),
                view=view,
            )
        except DjangoValidationError as exc:
            raise _api_error(exc) from exc

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        services.delete_view(self.request.user, instance)


# -- attachments ---------------------------------------------------------------------------------------
class AttachmentDetailSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField(help_text="app_label.model of the record the file belongs to.")
    record_id = serializers.IntegerField(source="target_id", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "mime_type", "uploaded_by", "created_at", "record_type", "record_id", "download_url"]
        read_only_fields = fields

    def get_record_type(self, obj) -> str:
        return obj.target_type.app_label + "." + obj.target_type.model

    def get_download_url(self, obj) -> str:
        return api_reverse("attachment-download", args=[obj.pk], request=self.context.get("request"))


class AnyMediaRenderer(renderers.BaseRenderer):
    """Lets any `Accept` through to the download (the file answers with its own type); errors stay JSON text."""

    media_type = "*/*"
    format = "file"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data, accepted_media_type, renderer_context)


class AttachmentViewSet(ApiBehaviourMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A file attached to a record (follow-up, opportunity, checklist step ...): visible with its record."""

    permission_module = None  # the record's own visibility decides (404 otherwise)
    serializer_class = AttachmentDetailSerializer
    queryset = Attachment.objects.select_related("target_type")

    def get_object(self):
        attachment = get_object_or_404(self.get_queryset(), pk=row_id_or_404(self.kwargs.get("pk")))
        if not can_view_target(self.request.user, attachment):
            raise Http404
        return attachment

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY}, description="The file itself, as uploaded.")
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, AnyMediaRenderer])
    def download(self, request, pk=None):
        attachment = self.get_object()
        try:
            handle = attachment.file.open("rb")
        except (FileNotFoundError, ValueError):
            raise Http404 from None
        response = FileResponse(handle, as_attachment=True, filename=attachment.name,
                                content_type=attachment.mime_type or "application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


# -- timeline ------------------------------------------------------------------------------------------
TimelinePageSerializer = inline_serializer("TimelinePage", {
    "results": inline_serializer("TimelineEntry", {
        "at": serializers.DateTimeField(),
        "kind": serializers.CharField(help_text="followup, comment, ownership, pool, change, opportunity, task, ..."),
        "title": serializers.CharField(),
        "body": serializers.CharField(),
        "actor": serializers.IntegerField(allow_null=True),
        "actor_name": serializers.CharField(),
        "url": serializers.CharField(help_text="The entry's page, when it has one."),
    }, many=True),
    "next_before": serializers.CharField(allow_null=True, help_text="Pass as ?before= for the next page; null on the last."),
})


class TimelineViewSet(ApiBehaviourMixin, viewsets.ViewSet):
    """A record's timeline: follow-ups, comments, ownership and pool moves, field changes, deals, tasks — whatever
    the apps register for its model — newest first, 20 per page."""

    permission_module = None  # the record's module and visibility decide below

    @extend_schema(
        parameters=[OpenApiParameter("before", OpenApiTypes.DATETIME, description="Entries older than this (the previous page's next_before).")],
        responses=TimelinePageSerializer,
    )
    @action(detail=False, methods=["get"], url_path=r"(?P<label>[a-z_]+\.[a-z_]+)/(?P<object_id>[0-9]+)")
    def record(self, request, label=None, object_id=None):
        try:
            obj = timeline.record(request.user, label, object_id)
        except DjangoPermissionDenied:
            raise PermissionDenied from None
        before = request.query_params.get("before")
        if before and timeline.parse_cursor(before) is None:
            raise ApiValidationError({"before": [gettext("Enter a valid date/time.")]})
        page = timeline.page(obj, request.user, before=before)
        return Response({
            "results": [{
                "at": entry.at, "kind": entry.kind, "title": str(entry.title), "body": str(entry.body or ""),
                "actor": getattr(entry.actor, "pk", None), "actor_name": str(entry.actor) if entry.actor else "",
                "url": _absolute(request, entry.url),
            } for entry in page.entries],
            "next_before": page.next_cursor,
        })


def _absolute(request, url: str) -> str:
    try:
        return request.build_absolute_uri(url) if url else ""
    except (NoReverseMatch, ValueError):
        return ""
