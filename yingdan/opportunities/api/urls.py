from .views import (
    ChecklistItemViewSet,
    CompetitorViewSet,
    LossReasonViewSet,
    OpportunityViewSet,
    PipelineViewSet,
    StageViewSet,
)


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("pipelines", PipelineViewSet, basename="pipeline")
    router.register("stages", StageViewSet, basename="stage")
    router.register("checklist-items", ChecklistItemViewSet, basename="checklistitem")
    router.register("opportunities", OpportunityViewSet, basename="opportunity")
    router.register("loss-reasons", LossReasonViewSet, basename="lossreason")
    router.register("competitors", CompetitorViewSet, basename="competitor")
