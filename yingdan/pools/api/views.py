from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseReadOnlyViewSet

from .. import services
from ..models import Pool
from .serializers import PoolAssignSerializer, PoolClaimSerializer, PoolResultSerializer, PoolSerializer


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))


class PoolViewSet(BaseReadOnlyViewSet):
    """Public pools (公海池) you can see. `POST /pools/{id}/claim/` with `{"object_id"}` claims a customer or a
    lead (by the pool's kind); `POST /pools/{id}/assign/` with `{"object_ids", "owner"}` is for pool admins."""

    queryset = Pool.objects.all()
    serializer_class = PoolSerializer
    permission_module = "pools"
    action_permissions = {"claim": "view", "assign": "view"}
    ordering_fields = ("id", "name")
    ordering = ("object_type", "name", "id")
    search_fields = ("name",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pool.objects.none()
        return services.pools_visible_to(self.request.user).order_by("object_type", "name", "id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "list" and not getattr(self, "swagger_fake_view", False):
            context["pool_counts"] = services.pool_counts(self.get_queryset())
        return context

    @extend_schema(request=PoolClaimSerializer, responses=PoolResultSerializer, summary="Claim a record from this pool")
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        pool = self.get_object()
        body = PoolClaimSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = services.model_for(pool.object_type)
        object_id = body.validated_data["object_id"]
        _call(services.claim_from, request.user, model, object_id, pool)
        return Response({"count": 1, "object_id": object_id})

    @extend_schema(request=PoolAssignSerializer, responses=PoolResultSerializer, summary="Assign records of this pool to a rep")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        pool = self.get_object()
        body = PoolAssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        model = services.model_for(pool.object_type)
        count = _call(services.assign, request.user, model, body.validated_data["object_ids"], body.validated_data["owner"], pool=pool)
        return Response({"count": count})
