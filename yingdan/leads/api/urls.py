from .views import AssignmentRuleViewSet, LeadViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("leads", LeadViewSet, basename="lead")
    router.register("assignment-rules", AssignmentRuleViewSet, basename="assignmentrule")
