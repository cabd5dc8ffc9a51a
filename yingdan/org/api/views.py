from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.schema import SingleObjectSchema
from yingdan.core.api.viewsets import BaseModelViewSet
from yingdan.handover import services as handover_services
from yingdan.handover.api.permissions import HandoverPermission
from yingdan.handover.api.serializers import (
    HandoverPreviewSerializer,
    HandoverRecordSerializer,
    HandoverRequestSerializer,
)

from .. import services
from ..models import Department, Role, User
from .filtersets import DepartmentFilterSet, RoleFilterSet, UserFilterSet
from .serializers import DepartmentSerializer, MeSerializer, RoleSerializer, UserSerializer


class UserViewSet(BaseModelViewSet):
    """Users with their department and roles. Only administrators write; users are deactivated, never deleted."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_module = "users"
    admin_only_writes = True
    action_permissions = {"deactivate": "edit", "activate": "edit", "handover": "edit"}
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    select_related_fields = ("department",)
    prefetch_related_fields = ("roles",)
    ordering_fields = ("id", "username", "name", "date_joined")
    search_fields = ("username", "name", "mobile", "email")

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Deactivate the user: they can no longer sign in, their tokens are revoked, nothing they own is deleted."""
        return self._transition(services.deactivate_user)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        """Re-activate a deactivated user."""
        return self._transition(services.activate_user)

    @extend_schema(
        request=HandoverRequestSerializer,
        responses={200: HandoverPreviewSerializer, 201: HandoverRecordSerializer},
        description=(
            "Handover when a user leaves (离职交接): their customers (with contacts and follow-up plans), leads and "
            "later kinds of records go to one successor (`one`), are split evenly among several (`split`), or "
            "return to the public pool (`pool`); then the user is deactivated — all in one transaction. "
            "`dry_run: true` answers the preview (200) and changes nothing; otherwise the stored handover record "
            "(201). Needs the users module's edit permission."
        ),
    )
    @action(detail=True, methods=["post"], permission_classes=[HandoverPermission])
    def handover(self, request, pk=None):
        user = self.get_object()
        body = HandoverRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            if data["dry_run"]:
                plan = handover_services.plan_handover(request.user, user, data["mode"], data["successors"])
                return Response({"dry_run": True, **plan.as_dict()})
            record = handover_services.execute_handover(
                request.user, user, data["mode"], data["successors"], data["reason"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        out = HandoverRecordSerializer(record, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    def _transition(self, service):
        user = self.get_object()
        try:
            user = service(self.request.user, user)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response(self.get_serializer(user).data)


class DepartmentViewSet(BaseModelViewSet):
    """The department tree: `path` is the materialised ancestry (/1/4/9/), `depth` starts at 0."""

    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilterSet
    permission_module = "departments"
    select_related_fields = ("parent", "manager")
    ordering_fields = ("id", "name", "path", "order")
    ordering = ("path",)
    search_fields = ("name",)


class RoleViewSet(BaseModelViewSet):
    """Roles: per module actions and a data scope, and field permissions."""

    queryset = Role.objects.all()
    serializer_class = RoleSerializer
    filterset_class = RoleFilterSet
    permission_module = "roles"
    ordering_fields = ("id", "name")
    search_fields = ("name", "code")


class MeViewSet(viewsets.GenericViewSet):
    """The signed-in user and their effective permissions."""

    serializer_class = MeSerializer
    pagination_class = None
    schema = SingleObjectSchema()

    def get_queryset(self):
        return User.objects.none()

    def list(self, request):
        return Response(self.get_serializer(request.user).data)
