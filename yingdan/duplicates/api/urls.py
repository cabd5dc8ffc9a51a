from .views import DuplicateRuleViewSet, DuplicatesViewSet, TransferRequestViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("duplicate-rules", DuplicateRuleViewSet, basename="duplicaterule")
    router.register("duplicates", DuplicatesViewSet, basename="duplicates")
    router.register("transfer-requests", TransferRequestViewSet, basename="transferrequest")
