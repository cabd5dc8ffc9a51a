from .views import HandoverRecordViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("handovers", HandoverRecordViewSet, basename="handoverrecord")
