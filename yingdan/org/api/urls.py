from .views import DepartmentViewSet, MeViewSet, RoleViewSet, UserViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("users", UserViewSet, basename="user")
    router.register("departments", DepartmentViewSet, basename="department")
    router.register("roles", RoleViewSet, basename="role")
    router.register("me", MeViewSet, basename="me")
