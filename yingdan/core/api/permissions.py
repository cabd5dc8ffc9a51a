"""Module-level permission for API views: the viewset declares `permission_module`; the HTTP method maps
to an action. Row-level scope is applied by the viewset's queryset (visible_to)."""

from rest_framework import permissions

from yingdan.core.permissions import get_permissions

METHOD_ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "create", "PUT": "edit", "PATCH": "edit", "DELETE": "delete"}


class ModulePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = getattr(request, "auth", None)
        if request.method not in permissions.SAFE_METHODS and getattr(token, "read_only", False):
            return False
        module = getattr(view, "permission_module", None)
        if module is None:
            return True  # views without a module (e.g. the API root) only require authentication
        action = getattr(view, "permission_action", None) or getattr(view, "action_permissions", {}).get(
            getattr(view, "action", None)
        ) or METHOD_ACTIONS.get(request.method, "view")
        return get_permissions(user).has(module, action)
