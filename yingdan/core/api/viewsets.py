"""Base viewset of every API endpoint.

The queryset is ALWAYS `Model.objects.visible_to(request.user, action)` with the action following the HTTP
method (GET → view, PUT/PATCH → edit, DELETE → delete), so an object outside the user's data scope is a 404 on
every route. The module permission itself (403) is checked by `ModulePermission`. Writes go through the
serializer's `save_instance` / `delete_instance`, i.e. the app's service functions.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, serializers, viewsets

from ..choices import Action, FieldAccess
from ..permissions import get_permissions
from .exceptions import django_errors_to_api
from .filters import QSearchFilter, name_search_q
from .permissions import METHOD_ACTIONS

SCOPE_ACTIONS = {**METHOD_ACTIONS, "POST": Action.CREATE}


class ScopedQuerysetMixin:
    """`get_queryset()` restricted to what the user may do with the current HTTP method."""

    permission_module: str = ""
    select_related_fields: tuple[str, ...] = ()
    prefetch_related_fields: tuple[str, ...] = ()
    # {viewset action: permission action}, e.g. {"deactivate": "edit"}; also used by ModulePermission.
    action_permissions: dict[str, str] = {}

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
        if self.prefetch_related_fields:
            queryset = queryset.prefetch_related(*self.prefetch_related_fields)
        return queryset

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


class BaseReadOnlyViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    filter_backends = [DjangoFilterBackend, QSearchFilter, filters.OrderingFilter]
    ordering_fields = ("id",)
    ordering = ("-id",)


class BaseModelViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
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
