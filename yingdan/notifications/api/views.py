from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import services
from ..filtersets import NotificationFilterSet
from ..models import Notification
from .serializers import MarkedSerializer, NotificationSerializer, UnreadCountSerializer


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in user's own notifications, newest first (another user's id is a 404).
    Filters: `status=unread|read` (or `unread=true|false`), `kind`."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilterSet
    permission_module = None  # any signed-in user, for their own notifications

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return services.for_user(self.request.user).select_related("actor", "target_type")

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one notification read."""
        note = get_object_or_404(services.for_user(request.user), pk=pk)
        services.mark_read(request.user, [note.pk])
        note.refresh_from_db()
        return Response(self.get_serializer(note).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all", filter_backends=[])
    def read_all(self, request):
        """Mark every unread notification of the user read."""
        return Response({"marked": services.mark_all_read(request.user)})

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count", filter_backends=[], pagination_class=None)
    def unread_count(self, request):
        """The number the bell shows."""
        count, capped = services.unread_badge(request.user)
        return Response({"unread": count, "capped": capped})
