from rest_framework import permissions

from yingdan.core.choices import Action
from yingdan.core.permissions import get_permissions


def _truthy(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


class HandoverPermission(permissions.BasePermission):
    """The users module's edit permission (not only administrators, unlike other user writes); a read-only
    token may ask for a dry run only. The service checks again, inside its transaction."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = getattr(request, "auth", None)
        if getattr(token, "read_only", False) and not _truthy(getattr(request, "data", {}).get("dry_run", False)):
            return False
        return get_permissions(user).has("users", Action.EDIT)
