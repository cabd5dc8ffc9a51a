from .views import FollowUpViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("followups", FollowUpViewSet, basename="followup")
