from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from yingdan.core import files
from yingdan.core.api.viewsets import BaseModelViewSet

from .. import services
from ..models import FollowUp, FollowUpComment
from .filtersets import FollowUpFilterSet
from .serializers import (
    AttachmentSerializer,
    CommentCreateSerializer,
    FollowUpCommentSerializer,
    FollowUpSerializer,
    UploadSerializer,
    raise_api,
)


class FollowUpViewSet(BaseModelViewSet):
    """Follow-ups (跟进记录) you may see: your own, and those of customers and leads in your scope.

    `GET/POST /followups/{id}/comments/` lists and adds comments (@username or @姓名 notifies);
    `POST /followups/{id}/attachments/` uploads files (multipart, field `files`, repeatable)."""

    queryset = FollowUp.objects.all()
    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilterSet
    permission_module = "followups"
    select_related_fields = ("type", "owner", "department", "customer", "lead", "created_by")
    prefetch_related_fields = ("contacts",)
    ordering_fields = ("id", "occurred_at", "next_at", "created_at")
    ordering = ("-occurred_at", "-id")
    search_fields = ("content",)
    action_permissions = {"comments": "view", "attachments": "edit"}
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["_attachments"] = getattr(self, "_attachment_cache", None)
        return context

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self._attachment_cache = files.attachments_of(FollowUp, [f.pk for f in page])
        return page

    @extend_schema(methods=["GET"], responses=FollowUpCommentSerializer(many=True))
    @extend_schema(methods=["POST"], request=CommentCreateSerializer, responses={201: FollowUpCommentSerializer})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def comments(self, request, pk=None):
        followup = self.get_object()
        if request.method == "POST":
            data = CommentCreateSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            try:
                comment = services.add_comment(request.user, followup, data.validated_data["body"])
            except DjangoValidationError as exc:
                raise_api(exc)
            return Response(FollowUpCommentSerializer(comment, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)
        comments = FollowUpComment.objects.filter(followup=followup).select_related("author").prefetch_related("mentions").order_by("id")
        return Response(FollowUpCommentSerializer(comments, many=True, context=self.get_serializer_context()).data)

    @extend_schema(request={"multipart/form-data": UploadSerializer}, responses=AttachmentSerializer(many=True))
    @action(detail=True, methods=["post"])
    def attachments(self, request, pk=None):
        followup = self.get_object()
        uploads = request.FILES.getlist("files")
        if not uploads:
            raise_api(DjangoValidationError({"files": [_("Choose at least one file.")]}))
        try:
            created = services.add_attachments(request.user, followup, uploads)
        except DjangoValidationError as exc:
            raise_api(exc)
        return Response(AttachmentSerializer(created, many=True, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)
