from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.viewsets import BaseModelViewSet
from yingdan.core.models import Attachment

from .. import services
from ..models import Competitor, LossReason, Opportunity, Pipeline, Stage
from .filtersets import OpportunityFilterSet, StageFilterSet
from .serializers import (
    CompetitorSerializer,
    LossReasonSerializer,
    MoveSerializer,
    OpportunitySerializer,
    PipelineSerializer,
    StageSerializer,
)

SETTINGS_WRITES = {"create": "edit", "update": "edit", "partial_update": "edit", "destroy": "edit"}
STAGE_WRITES = {"create": "edit", "update": "edit", "partial_update": "edit"}


class PipelineViewSet(BaseModelViewSet):
    """Sales pipelines (销售流程). Writes need the pipelines module permission."""

    queryset = Pipeline.objects.all()
    serializer_class = PipelineSerializer
    permission_module = "pipelines"
    prefetch_related_fields = ("departments",)
    ordering_fields = ("id", "order", "name")
    ordering = ("order", "id")
    search_fields = ("name",)


class StageViewSet(BaseModelViewSet):
    """Stages of the pipelines, with their SOP checklist. `?pipeline=<id>`. Deleting a stage that holds deals is
    refused (400); move them first (settings page)."""

    queryset = Stage.objects.all()
    serializer_class = StageSerializer
    filterset_class = StageFilterSet
    permission_module = "pipelines"
    action_permissions = STAGE_WRITES
    prefetch_related_fields = ("checklist",)
    ordering_fields = ("id", "order")
    ordering = ("pipeline", "order", "id")


class LossReasonViewSet(BaseModelViewSet):
    """Loss reasons (two levels: `parent` null = top level). Readable by every signed-in user."""

    queryset = LossReason.objects.all()
    serializer_class = LossReasonSerializer
    permission_module = "settings"
    read_requires_module = False
    action_permissions = SETTINGS_WRITES
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("id", "order", "name")
    ordering = ("order", "id")


class CompetitorViewSet(BaseModelViewSet):
    """Competitors. Readable by every signed-in user."""

    queryset = Competitor.objects.all()
    serializer_class = CompetitorSerializer
    permission_module = "settings"
    read_requires_module = False
    action_permissions = SETTINGS_WRITES
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ("id", "name")
    ordering = ("name",)
    search_fields = ("name",)


class OpportunityViewSet(BaseModelViewSet):
    """Opportunities (商机) in your data scope. The stage changes only through `POST …/{id}/move/` (the gate)."""

    queryset = Opportunity.objects.all()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    permission_module = "opportunities"
    action_permissions = {"move": "edit"}
    select_related_fields = ("customer", "owner", "department", "pipeline", "stage", "source", "loss_reason", "competitor", "created_by")
    prefetch_related_fields = ("contacts", "collaborators")
    ordering_fields = ("id", "name", "amount", "expected_close", "created_at", "updated_at")
    search_fields = ("name",)

    @extend_schema(
        request=MoveSerializer,
        responses={
            200: OpportunitySerializer,
            400: OpenApiResponse(description="Refused by the gate. `error.fields` says what is missing: field names (custom fields "
                                             "under `custom_fields`), `checklist_<item id>` for SOP steps not done (or lacking their "
                                             "note/attachment), `loss_reason` when losing, `stage` for a stage of another pipeline."),
            409: OpenApiResponse(description="Stale `version`: someone else moved the deal meanwhile (`error.code` = `stale_version`)."),
        },
        summary="Move to another stage (through the gate)",
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        opp = self.get_object()
        data = MoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        checklist = {}
        for item_id, tick in (v.get("checklist") or {}).items():
            if not str(item_id).isdigit():
                continue
            attachment = None
            if tick.get("attachment"):
                attachment = Attachment.objects.filter(pk=tick["attachment"], target_id=opp.pk, target_type__model="opportunity").first()
            checklist[int(item_id)] = {"note": tick.get("note", ""), "attachment": attachment}
        try:
            opp = services.move_opportunity(
                request.user, opp, v["stage"], expected_version=v.get("version"), values=v.get("values") or {}, checklist=checklist,
                loss_reason=v.get("loss_reason"), competitor=v.get("competitor"), loss_note=v.get("loss_note", ""),
            )
        except DjangoValidationError as exc:
            if hasattr(exc, "error_dict") and "version" in exc.error_dict:
                return Response({"error": {"code": "stale_version", "message": " ".join(exc.message_dict["version"])}},
                                status=status.HTTP_409_CONFLICT)
            raise
        opp = self.get_queryset().get(pk=opp.pk)
        return Response(OpportunitySerializer(opp, context=self.get_serializer_context()).data)

    def get_serializer_class(self):
        return MoveSerializer if getattr(self, "action", None) == "move" else super().get_serializer_class()
