"""Module-level permission for API views: the viewset declares `permission_module`; the HTTP method (or
`action_permissions[view.action]`) maps to an action. Row-level scope is applied by the viewset's queryset
(visible_to), so out-of-scope objects are 404 while a missing module permission is 403.

Viewset switches:
- `read_requires_module = False`: any signed-in user may read (e.g. the lookup lists every form needs);
- `admin_only_writes = True`: writes need an administrator role, whatever the module grants (users).
"""

from rest_framework import permissions

from yingdan.core.permissions import get_permissions

METHOD_ACTIONS = {"GET": "view", "HEAD": "view", "OPTIONS": "view", "POST": "create", "PUT": "edit", "PATCH": "edit", "DELETE": "delete"}


class ModulePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        safe = request.method in permissions.SAFE_METHODS
        token = getattr(request, "auth", None)
        if not safe and getattr(token, "read_only", False):
            return False
        module = getattr(view, "permission_module", None)
        if module is None:
            return True  # views without a module (e.g. the API root, /me/) only require authentication
        perms = get_permissions(user)
        if not safe and getattr(view, "admin_only_writes", False) and not perms.is_admin:
            return False
        if safe and getattr(view, "read_requires_module", True) is False:
            return True
        action = getattr(view, "permission_action", None) or getattr(view, "action_permissions", {}).get(
            getattr(view, "action", None)
        ) or METHOD_ACTIONS.get(request.method, "view")
        return perms.has(module, action)
