"""Base viewset of every API endpoint.

The queryset is ALWAYS `Model.objects.visible_to(request.user, action)` with the action following the HTTP
method (GET → view, PUT/PATCH → edit, DELETE → delete), so an object outside the user's data scope is a 404 on
every route. The module permission itself (403) is checked by `ModulePermission`. Writes go through the
serializer's `save_instance` / `delete_instance`, i.e. the app's service functions.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..choices import Action, FieldAccess
from ..exceptions import row_id_or_404
from ..permissions import get_permissions
from . import cache as api_cache
from . import idempotency, prepared, throttling
from .exceptions import django_errors_to_api, exception_handler
from .filters import QSearchFilter, name_search_q
from .permissions import METHOD_ACTIONS

SCOPE_ACTIONS = {**METHOD_ACTIONS, "POST": Action.CREATE}
BULK_MAX = 1000
# Query parameters read by the paginator, the ordering and search backends and the renderer, not by filtersets.
NON_FILTER_PARAMS = frozenset({"cursor", "page_size", "ordering", "q", "format"})


class ApiBehaviourMixin:
    """What every endpoint does besides its own work: `Idempotency-Key` on POST (replay / 422 on a different
    body) and the rate-limit headers."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        idempotency.check(request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if not response.get("Idempotent-Replayed"):
            idempotency.store(request, response)
        return throttling.add_headers(request, response)


class BulkIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1,
                                max_length=1000, help_text="Up to 1,000 ids; those outside your delete scope are skipped.")


class BulkCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many records were deleted.")


class BulkDeleteMixin:
    """`POST <list>/bulk-delete/` with `{"ids": [...]}`: the list page's bulk delete, through the app's
    `bulk_delete_service(actor, ids) -> count` (records outside the actor's delete scope are skipped, never
    revealed). Viewsets set `bulk_delete_service` and map `"bulk_delete": "delete"` in `action_permissions`."""

    bulk_delete_service = None

    @extend_schema(request=BulkIdsSerializer, responses=BulkCountSerializer,
                   summary="Delete several records (those in your delete scope; others are skipped)")
    @action(detail=False, methods=["post"], url_path="bulk-delete", pagination_class=None, filter_backends=[])
    def bulk_delete(self, request):
        body = BulkIdsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                count = type(self).bulk_delete_service(request.user, body.validated_data["ids"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response({"count": count})


class BulkWriteMixin:
    """`POST <list>/bulk/` creates and `PATCH <list>/bulk/` updates up to 1,000 records, each through the same
    serializer and service as a single call, each in its own savepoint: one bad item does not stop the others.
    The response lists per-item results `{index, status, id, data | error}` (HTTP 200 even if some failed;
    `created`/`updated`/`failed` counts on top)."""

    def initial(self, request, *args, **kwargs):
        if getattr(self, "action", None) == "bulk":
            single = "create" if request.method == "POST" else "partial_update"
            self.permission_action = getattr(self, "action_permissions", {}).get(single)
        super().initial(request, *args, **kwargs)

    def _bulk_items(self, request):
        items = request.data
        if isinstance(items, dict) and "items" in items:
            items = items["items"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise serializers.ValidationError({"items": [_("A list of objects.")]})
        if not items:
            raise serializers.ValidationError({"items": [_("At least one item.")]})
        if len(items) > BULK_MAX:
            raise serializers.ValidationError({"items": [_("At most %(max)s items per call.") % {"max": BULK_MAX}]})
        return items

    def _bulk_one(self, index, item, *, update: bool):
        try:
            with transaction.atomic():
                if update:
                    pk = item.get("id")
                    instance = self.get_queryset().filter(pk=pk).first() if isinstance(pk, int) and not isinstance(pk, bool) else None
                    if instance is None:
                        from rest_framework.exceptions import NotFound

                        raise NotFound(_("Not found."))
                    serializer = self.get_serializer(instance, data={k: v for k, v in item.items() if k != "id"}, partial=True)
                    serializer.is_valid(raise_exception=True)
                    self.perform_update(serializer)
                    code = status.HTTP_200_OK
                else:
                    serializer = self.get_serializer(data=item)
                    serializer.is_valid(raise_exception=True)
                    self.perform_create(serializer)
                    code = status.HTTP_201_CREATED
            data = serializer.data
            return {"index": index, "status": code, "id": data.get("id"), "data": data}
        except Exception as exc:  # noqa: BLE001 — reported per item in the one error format
            response = exception_handler(exc, {"view": self, "request": self.request})
            if response is None:
                raise
            return {"index": index, "status": response.status_code, "id": item.get("id"), "error": response.data["error"]}

    @extend_schema(
        methods=["POST"], request={"application/json": {"type": "array", "items": {"type": "object"}, "maxItems": BULK_MAX}},
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Per-item results")},
        summary="Create up to 1,000 records, each validated and saved like a single create.",
    )
    @extend_schema(
        methods=["PATCH"], request={"application/json": {"type": "array", "items": {"type": "object"}, "maxItems": BULK_MAX}},
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="Per-item results")},
        summary="Update up to 1,000 records (each item has its `id`), each like a single partial update.",
    )
    @action(detail=False, methods=["post", "patch"], url_path="bulk", pagination_class=None, filter_backends=[])
    def bulk(self, request, *args, **kwargs):
        items = self._bulk_items(request)
        update = request.method == "PATCH"
        results = [self._bulk_one(i, item, update=update) for i, item in enumerate(items)]
        ok = sum(1 for r in results if r["status"] < 300)
        return Response({
            "created": 0 if update else ok, "updated": ok if update else 0, "failed": len(results) - ok,
            "results": results,
        })


def load_related(objects: list, names, request=None) -> None:
    """Fill the foreign keys `names` of `objects` (one model) with one query per related model, for the
    relations not loaded yet: what `select_related` would give, without the joins. Rows of the small
    tables in `api.cache.CACHED_TABLES` come from the per-process cache (no query)."""
    if not objects:
        return
    meta = type(objects[0])._meta
    wanted: dict = {}  # related model -> (ids, [(field, obj, id)])
    for name in names:
        field = meta.get_field(name)
        if not field.many_to_one or field.target_field != field.related_model._meta.pk:
            continue
        for obj in objects:
            value = getattr(obj, field.attname)
            if value is None or field.is_cached(obj):
                continue
            ids, pending = wanted.setdefault(field.related_model, (set(), []))
            ids.add(value)
            pending.append((field, obj, value))
    for model, (ids, pending) in wanted.items():
        rows = api_cache.rows_by_id(model, request)
        if rows is None or not ids <= rows.keys():  # a row newer than the cached table: read as usual
            rows = _one_by_id(model, ids)
            if rows is None:
                rows = model._base_manager.in_bulk(ids)
        for field, obj, value in pending:
            if value in rows:  # a missing row is left to the descriptor (it raises as usual)
                field.set_cached_value(obj, rows[value])


def _int_id(ids) -> int | None:
    if len(ids) != 1:
        return None
    (value,) = ids
    return value if type(value) is int else None


def _one_by_id(model, ids) -> dict | None:
    """`in_bulk(ids)` of a single integer id from compiled SQL (api/prepared.py); None: ask in_bulk."""
    value = _int_id(ids)
    if value is None:
        return None

    def build():
        return model._base_manager.filter(pk__in=[prepared.INT_SENTINEL])

    rows = prepared.fetch(("in-bulk", model._meta.label_lower), build, {"pk": value}, {"pk": prepared.INT_SENTINEL})
    return None if rows is None else {obj.pk: obj for obj in rows}


_plain_many: dict[tuple, bool] = {}


def plain_many_to_many(model, name: str) -> bool:
    """A forward many-to-many field whose related model's default manager filters nothing and orders by
    plain field names: `load_many_related` then gives what the related manager would."""
    key = (model, name)
    if key not in _plain_many:
        ok = False
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 — a lookup path, a reverse relation: not ours
            field = None
        if field is not None and field.many_to_many and not field.auto_created and field.concrete:
            related = field.related_model
            ordering = related._meta.ordering or []
            ok = (not related._default_manager.all().query.has_filters()
                  and all(isinstance(o, str) and "__" not in o and o.lstrip("-") != "?" for o in ordering))
        _plain_many[key] = ok
    return _plain_many[key]


def load_many_related(objects: list, names) -> None:
    """The to-many relations `names` of `objects` (forward many-to-many, `plain_many_to_many`) with one
    query each (the link table joined to the related rows, in the related model's order), kept on each
    object for the API's serializers (`LoadedManyRelatedField`). Unlike Django's prefetch this builds no
    related manager and no filtered queryset per object — most of a list page's time."""
    ids = [o.pk for o in objects if o.pk is not None]
    if not ids:
        return
    meta = type(objects[0])._meta
    for name in names:
        field = meta.get_field(name)
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        order = [f"-{target}__{o[1:]}" if o.startswith("-") else f"{target}__{o}" for o in field.related_model._meta.ordering or []]

        def query(ids, through=through, source=source, target=target, order=order):
            return through._base_manager.filter(**{f"{source}_id__in": ids}).select_related(target).order_by(*order, f"{target}_id")

        rows = None
        one = _int_id(ids)
        if one is not None:  # a GET by id: from compiled SQL (api/prepared.py)
            rows = prepared.fetch(("many", through._meta.label_lower, source, target), lambda: query([prepared.INT_SENTINEL]),
                                  {"pk": one}, {"pk": prepared.INT_SENTINEL})
        if rows is None:
            rows = query(ids)
        groups: dict = {pk: [] for pk in ids}
        source_attr = f"{source}_id"
        for row in rows:
            groups[getattr(row, source_attr)].append(getattr(row, target))
        for obj in objects:
            loaded = obj.__dict__.setdefault("_yingdan_many", {})
            loaded[name] = groups.get(obj.pk, [])


class ScopedQuerysetMixin:
    """`get_queryset()` restricted to what the user may do with the current HTTP method."""

    permission_module: str = ""
    select_related_fields: tuple[str, ...] = ()
    prefetch_related_fields: tuple[str, ...] = ()
    # Foreign keys loaded after the rows, one query per related model for the whole page (`load_related`),
    # instead of joined: small lookup tables, or relations that are usually empty. Every join more
    # roughly doubles PostgreSQL's planning time of the page query (7 joins: 10-15 ms for a plan run in 0.6 ms).
    batch_related_fields: tuple[str, ...] = ()
    # {viewset action: permission action}, e.g. {"deactivate": "edit"}; also used by ModulePermission.
    action_permissions: dict[str, str] = {}
    # GET by id from compiled SQL (`_prepared_object`): only for viewsets whose queryset depends on nothing
    # but the user's cached authorization (no get_queryset/filter_queryset reading other request state).
    prepared_get: bool = False

    def scope_action(self) -> str:
        return self.action_permissions.get(getattr(self, "action", None)) or SCOPE_ACTIONS.get(self.request.method, Action.VIEW)

    def get_queryset(self):
        queryset = self.queryset.all()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        user = self.request.user
        action = self.scope_action()
        if action == Action.VIEW and getattr(self, "read_requires_module", True) is False:
            pass  # readable by every signed-in user (ModulePermission has checked the sign-in)
        elif hasattr(queryset, "visible_to"):
            queryset = queryset.visible_to(user, action)
        elif not get_permissions(user).has(self.permission_module, action):
            queryset = queryset.none()
        if self.select_related_fields:
            queryset = queryset.select_related(*self.select_related_fields)
        loaded_later = self._many_loaded_later()
        prefetch = [name for name in self.prefetch_related_fields if name not in loaded_later]
        if prefetch:
            queryset = queryset.prefetch_related(*prefetch)
        return queryset

    def _many_loaded_later(self) -> tuple[str, ...]:
        """Reads load plain many-to-many relations with `load_many_related` (in `get_serializer`); writes
        keep Django's prefetch (DRF resets it after an update, so the response shows the new relations)."""
        request = getattr(self, "request", None)
        if request is None or request.method not in ("GET", "HEAD") or self.queryset is None:
            return ()
        model = self.queryset.model
        return tuple(name for name in self.prefetch_related_fields if plain_many_to_many(model, name))

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "action", None) == "retrieve" and self.request.method == "GET":
            context["shared_fields"] = True  # read-only: the field set is re-used (BaseModelSerializer.fields)
        return context

    def get_serializer(self, *args, **kwargs):
        instance = args[0] if args else kwargs.get("instance")
        many = self._many_loaded_later() if self.prefetch_related_fields else ()
        if (self.batch_related_fields or many) and instance is not None:
            if kwargs.get("many"):
                instance = list(instance)  # a page already is one; an unpaginated queryset is read here
                if args:
                    args = (instance, *args[1:])
                else:
                    kwargs["instance"] = instance
                objects = instance
            else:
                objects = [instance] if isinstance(instance, models.Model) else []
            if objects and isinstance(objects[0], self.queryset.model):
                load_related(objects, self.batch_related_fields, self.request)
                load_many_related(objects, many)
        return super().get_serializer(*args, **kwargs)

    def filter_queryset(self, queryset):
        """The backends in order, except that the filterset is not built when the request carries none of
        its parameters: it would filter nothing (a GET by id or a plain page of a list), and building it
        (one filter per column and per custom field) costs more than the rest of a GET by id."""
        for backend_class in list(self.filter_backends):
            backend = backend_class()
            if isinstance(backend, DjangoFilterBackend) and not self._has_filter_params(backend, queryset):
                continue
            queryset = backend.filter_queryset(self.request, queryset, self)
        return queryset

    def _has_filter_params(self, backend, queryset) -> bool:
        params = self.request.query_params
        if not params:
            return False
        filterset_class = backend.get_filterset_class(self, queryset)
        if filterset_class is None:
            return False
        # Anything else may be a filter (a range filter reads `<name>_min`, custom fields `cf_<key>`, ...).
        return any(name not in NON_FILTER_PARAMS or name in filterset_class.base_filters for name in params)

    def get_object(self):
        value = str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""))
        if self.lookup_field in ("pk", "id"):
            row_id_or_404(value)
        obj = self._prepared_object(value) if self.prepared_get else None
        if obj is None:
            obj = super().get_object()
        return obj

    def _prepared_object(self, value: str):
        """GET by id from the scoped query compiled once per user authorization (api/prepared.py): the same
        queryset as `get_object` (get_queryset → filter_queryset → `.get(pk=...)`), built and compiled on the
        first call only. Only for a plain GET (no query parameter can change the query) by a user whose
        permissions came from the per-process cache (token requests); None: take the ordinary path."""
        request = self.request
        if request.method != "GET" or request.query_params or self.lookup_field not in ("pk", "id"):
            return None
        authz = api_cache.authz_key(request.user)
        if authz is None:
            return None
        lookup = self.lookup_field

        def build():
            queryset = self.filter_queryset(self.get_queryset())
            return queryset.filter(**{lookup: prepared.INT_SENTINEL}).order_by()[: prepared.MAX_ROWS]

        key = ("get", type(self), getattr(self, "action", None), self.scope_action(), lookup, authz)
        rows = prepared.fetch(key, build, {"pk": int(value)}, {"pk": prepared.INT_SENTINEL})
        if rows is None or len(rows) > 1:
            return None
        if not rows:
            raise Http404(f"No {self.queryset.model._meta.object_name} matches the given query.")
        self.check_object_permissions(request, rows[0])
        return rows[0]

    def search_queryset(self, queryset, text: str):
        """`?q=`: the indexed name/pinyin columns when the model has them, else `search_fields`."""
        model = queryset.model
        # Searching a field the user may not see would reveal its values.
        hidden = {k for k, v in get_permissions(self.request.user).field_map(self.permission_module).items() if v == FieldAccess.HIDDEN}

        def allowed(names):
            return tuple(n for n in names if n not in hidden)

        if any(f.name == "search_name" for f in model._meta.concrete_fields):
            q = name_search_q(
                text,
                phone_fields=allowed(getattr(self, "search_phone_fields", ())),
                email_fields=allowed(getattr(self, "search_email_fields", ())),
            )
        else:
            q = Q(pk__in=[])
            for name in allowed(getattr(self, "search_fields", ())):
                q |= Q(**{f"{name}__icontains": text})
        return queryset.filter(q)


class BaseReadOnlyViewSet(ApiBehaviourMixin, ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    filter_backends = [DjangoFilterBackend, QSearchFilter, filters.OrderingFilter]
    ordering_fields = ("id",)
    ordering = ("-id",)


class BaseModelViewSet(ApiBehaviourMixin, BulkWriteMixin, ScopedQuerysetMixin, viewsets.ModelViewSet):
    filter_backends = [DjangoFilterBackend, QSearchFilter, filters.OrderingFilter]
    ordering_fields = ("id",)
    ordering = ("-id",)
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def perform_destroy(self, instance):
        serializer = self.get_serializer(instance)
        try:
            serializer.delete_instance(instance)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
