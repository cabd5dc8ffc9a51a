from .changes import ObjectChangeViewSet
from .customfields import CustomFieldViewSet
from .lookups import LookupViewSet
from .records import AttachmentViewSet, SavedViewViewSet, TimelineViewSet


def register(router) -> None:
    """Register this app's viewsets on the /api/v1/ router."""
    router.register("custom-fields", CustomFieldViewSet, basename="customfield")
    router.register("lookups", LookupViewSet, basename="lookup")
    router.register("changes", ObjectChangeViewSet, basename="objectchange")
    router.register("saved-views", SavedViewViewSet, basename="savedview")
    router.register("attachments", AttachmentViewSet, basename="attachment")
    router.register("timeline", TimelineViewSet, basename="timeline")
