from .views import PoolViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("pools", PoolViewSet, basename="pool")
