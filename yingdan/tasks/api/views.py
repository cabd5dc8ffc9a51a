from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseModelViewSet, BulkDeleteMixin

from .. import services
from ..models import Task
from .filtersets import TaskApiFilterSet
from .serializers import TaskSerializer


class EmptySerializer(serializers.Serializer):
    """No body."""


class TaskIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000)


class TaskReassignSerializer(TaskIdsSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True), help_text="An active user.")


class TaskCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))


class TaskViewSet(BulkDeleteMixin, BaseModelViewSet):
    """Tasks (任务) in your data scope. `?q=` searches the title; `?overdue=true`, `?linked_type=customers.customer`."""

    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    filterset_class = TaskApiFilterSet
    permission_module = "tasks"
    select_related_fields = ("owner", "department", "created_by", "target_type")
    prefetch_related_fields = ("collaborators",)
    ordering_fields = ("id", "due_at", "priority", "created_at", "updated_at")
    search_fields = ("title",)
    action_permissions = {"complete": "edit", "reopen": "edit", "reassign": "transfer", "bulk_delete": "delete"}
    bulk_delete_service = staticmethod(services.delete_tasks)

    @extend_schema(request=TaskReassignSerializer, responses=TaskCountSerializer,
                   summary="Give several tasks to another user (the list's bulk reassign; needs 'transfer')")
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def reassign(self, request):
        body = TaskReassignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response({"count": _call(services.reassign_tasks, request.user, body.validated_data["ids"], body.validated_data["owner"])})

    @extend_schema(request=EmptySerializer, responses=TaskSerializer, summary="Complete a task (a repeating task gets its next occurrence)")
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        task = self.get_object()
        try:
            task, _next = services.complete_task(request.user, task)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(request=EmptySerializer, responses=TaskSerializer, summary="Reopen a done or cancelled task")
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        task = services.reopen_task(request.user, self.get_object())
        return Response(TaskSerializer(task, context=self.get_serializer_context()).data)
