from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.schema import SingleObjectSchema

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


class PreferenceSerializer(serializers.Serializer):
    channels = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                     help_text='{kind: ["in_app", "email"]}; a kind not listed gets in-app only.')
    quiet_start = serializers.TimeField(allow_null=True, required=False)
    quiet_end = serializers.TimeField(allow_null=True, required=False)


class NotificationPreferenceViewSet(viewsets.ViewSet):
    """The signed-in user's own notification preferences: `GET`/`PUT /notification-preferences/`."""

    permission_module = None
    serializer_class = PreferenceSerializer
    schema = SingleObjectSchema()  # the list route returns one object

    def _data(self, pref):
        from yingdan.core import registry

        return {"channels": {k: pref.channels_for(k) for k in registry.notification_kinds},
                "quiet_start": pref.quiet_start, "quiet_end": pref.quiet_end}

    @extend_schema(responses=PreferenceSerializer)
    def list(self, request):
        return Response(PreferenceSerializer(self._data(services.get_preference(request.user))).data)

    @extend_schema(request=PreferenceSerializer, responses={200: PreferenceSerializer})
    def create(self, request):
        """Same as PUT .../me/: replace the signed-in user's preferences (omitted parts are kept)."""
        return self.update_me(request)

    @extend_schema(request=PreferenceSerializer, responses=PreferenceSerializer)
    @action(detail=False, methods=["put"], url_path="me")
    def update_me(self, request):
        from django.core.exceptions import ValidationError as DjangoValidationError
        from rest_framework.exceptions import ValidationError

        from yingdan.core.api.exceptions import django_errors_to_api

        data = PreferenceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        current = services.get_preference(request.user)
        v = data.validated_data
        try:
            pref = services.save_preference(request.user, v.get("channels", current.channels),
                                            v.get("quiet_start", current.quiet_start), v.get("quiet_end", current.quiet_end))
        except DjangoValidationError as exc:
            raise ValidationError(django_errors_to_api(exc))
        return Response(PreferenceSerializer(self._data(pref)).data)
