from .views import NotificationPreferenceViewSet, NotificationViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("notifications", NotificationViewSet, basename="notification")
    router.register("notification-preferences", NotificationPreferenceViewSet, basename="notificationpreference")
