from yingdan.core.api.viewsets import BaseReadOnlyViewSet

from ..models import HandoverRecord
from .serializers import HandoverRecordSerializer


class HandoverRecordViewSet(BaseReadOnlyViewSet):
    """Completed handovers (离职交接), newest first; visible to whoever may view the leaving user.
    Start one with POST /api/v1/users/{id}/handover/."""

    queryset = HandoverRecord.objects.all()
    serializer_class = HandoverRecordSerializer
    permission_module = "users"
    select_related_fields = ("from_user", "created_by")
    prefetch_related_fields = ("successors",)
    filterset_fields = ("from_user", "mode")
    ordering_fields = ("id", "created_at", "total")
