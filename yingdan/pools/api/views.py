from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.pagination import CursorPagination
from yingdan.core.api.viewsets import BaseModelViewSet

from .. import services
from ..models import Pool, PoolSettings
from .serializers import (
    PoolAssignSerializer,
    PoolClaimSerializer,
    PoolRecordSerializer,
    PoolResultSerializer,
    PoolSerializer,
    PoolSettingsSerializer,
    RecyclePreviewSerializer,
    RecycleStartedSerializer,
)


def _call(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))


class PoolViewSet(BaseModelViewSet):
    """Public pools (公海池) you can see. `POST /pools/{id}/claim/` with `{"object_id"}` claims a customer or a
    lead (by the pool's kind); `POST /pools/{id}/assign/` with `{"object_ids", "owner"}` is for pool admins.
    Creating, changing and deleting pools, the company-wide settings (`/pools/settings/`) and recycling
    (`/pools/recycling/`) need the pools module's create/edit/delete, like the settings pages. Deleting a pool
    that still holds records is refused (400)."""

    queryset = Pool.objects.all()
    serializer_class = PoolSerializer
    permission_module = "pools"
    action_permissions = {"claim": "view", "assign": "view", "records": "view", "pool_settings": "edit", "recycling": "edit"}
    ordering_fields = ("id", "name")
    ordering = ("object_type", "name", "id")
    search_fields = ("name",)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pool.objects.none()
        return (services.pools_visible_to(self.request.user).prefetch_related("departments", "admins", "members")
                .order_by("object_type", "name", "id"))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "list" and not getattr(self, "swagger_fake_view", False):
            context["pool_counts"] = services.pool_counts(self.get_queryset())
        return context

    @extend_schema(request=None, responses=PoolRecordSerializer(many=True),
                   summary="The records of this pool (newest first; the pool's hidden fields left out)")
    @action(detail=True, methods=["get"], pagination_class=CursorPagination, filter_backends=[])
    def records(self, request, pk=None):
        from django.utils import formats

        pool = self.get_object()
        model = services.model_for(pool.object_type)
        hidden = services.pool_hidden_fields(request.user, pool, model)
        columns = [c for c in services.RECORD_COLUMNS[pool.object_type] if c != "name" and c not in hidden]
        qs = (model.objects.filter(pool_id=pool.pk).select_related(*services.RECORD_RELATED[pool.object_type])
              .order_by("-id"))
        page = self.paginate_queryset(qs)

        def text(value):
            if value is None:
                return ""
            if hasattr(value, "isoformat"):
                return value.isoformat()
            return str(value) if not isinstance(value, (int, float)) else formats.number_format(value)

        rows = [{"id": obj.pk, "name": "" if "name" in hidden else obj.name,
                 "fields": {c: text(getattr(obj, c, None)) for c in columns}} for obj in page]
        return self.get_paginated_response(PoolRecordSerializer(rows, many=True).data)

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

    @extend_schema(methods=["GET"], request=None, responses=PoolSettingsSerializer, summary="Company-wide holding caps")
    @extend_schema(methods=["PUT", "PATCH"], request=PoolSettingsSerializer, responses=PoolSettingsSerializer,
                   summary="Change the company-wide holding caps")
    @action(detail=False, methods=["get", "put", "patch"], url_path="settings", pagination_class=None, filter_backends=[])
    def pool_settings(self, request):
        current = PoolSettings.get()
        if request.method == "GET":
            return Response(PoolSettingsSerializer(current).data)
        body = PoolSettingsSerializer(current, data=request.data, partial=request.method == "PATCH")
        body.is_valid(raise_exception=True)
        for name, value in body.validated_data.items():
            setattr(current, name, value)
        saved = _call(services.save_settings, request.user, current)
        return Response(PoolSettingsSerializer(saved).data)

    @extend_schema(methods=["GET"], request=None, responses=RecyclePreviewSerializer,
                   summary="What tonight's recycling run would return to each pool (a dry run)")
    @extend_schema(methods=["POST"], request=None, responses={202: RecycleStartedSerializer},
                   summary="Run recycling now (in the background), like the preview page's button")
    @action(detail=False, methods=["get", "post"], url_path="recycling", pagination_class=None, filter_backends=[])
    def recycling(self, request):
        if not services.manages_pools(request.user):
            from rest_framework.exceptions import PermissionDenied

            raise PermissionDenied()
        if request.method == "POST":
            from ..tasks import recycle_now

            recycle_now()
            return Response({"started": True}, status=202)
        report = services.recycle(dry_run=True)
        pools = {p.pk: p for p in Pool.objects.all()}
        rows = [{"pool": pid, "name": pools[pid].name, "object_type": ot, "count": n}
                for (ot, pid), n in sorted(report.per_pool.items(), key=lambda kv: kv[0][1]) if pid in pools]
        return Response({"total": report.total, "pools": rows})
