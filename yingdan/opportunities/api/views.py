from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseModelViewSet, BulkDeleteMixin
from yingdan.core.models import Attachment

from .. import services
from ..models import ChecklistItem, Competitor, LossReason, Opportunity, Pipeline, Stage
from .filtersets import ChecklistItemFilterSet, OpportunityFilterSet, StageFilterSet
from .serializers import (
    ChecklistItemWriteSerializer,
    CompetitorSerializer,
    LossReasonSerializer,
    MoveSerializer,
    OpportunityAttachmentSerializer,
    OpportunityBulkMoveResultSerializer,
    OpportunityBulkMoveSerializer,
    OpportunityChecklistStatusSerializer,
    OpportunityChecklistTickSerializer,
    OpportunityCountSerializer,
    OpportunityIdsSerializer,
    OpportunitySerializer,
    OpportunityTransferSerializer,
    OpportunityUploadSerializer,
    PipelineSerializer,
    StageReorderSerializer,
    StageSerializer,
)


def _call(func, *args, **kwargs):
    """Run a service; its Django ValidationError becomes the API's 400."""
    try:
        return func(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_errors_to_api(exc))

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
    action_permissions = {"reorder": "edit"}

    @extend_schema(request=StageReorderSerializer, responses=StageSerializer(many=True),
                   summary="Reorder the pipeline's stages (the settings page's drag and drop)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def reorder(self, request, pk=None):
        pipeline = self.get_object()
        body = StageReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _call(services.reorder_stages, request.user, pipeline, body.validated_data["stages"])
        stages = Stage.objects.filter(pipeline=pipeline, is_active=True).prefetch_related("checklist").order_by("order", "id")
        return Response(StageSerializer(stages, many=True, context=self.get_serializer_context()).data)


class ChecklistItemViewSet(BaseModelViewSet):
    """The SOP checklist steps of the stages (settings). `?stage=<id>`. Deleting a step someone already ticked
    deactivates it (its completions stay on the deals)."""

    queryset = ChecklistItem.objects.all()
    serializer_class = ChecklistItemWriteSerializer
    filterset_class = ChecklistItemFilterSet
    permission_module = "pipelines"
    action_permissions = {"create": "edit", "update": "edit", "partial_update": "edit", "destroy": "edit"}
    select_related_fields = ("stage",)
    ordering_fields = ("id", "order")
    ordering = ("stage", "order", "id")


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


class OpportunityViewSet(BulkDeleteMixin, BaseModelViewSet):
    """Opportunities (商机) in your data scope. The stage changes only through `POST …/{id}/move/` (the gate)."""

    queryset = Opportunity.objects.all()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    permission_module = "opportunities"
    action_permissions = {"move": "edit", "checklist": "view", "checklist_tick": "edit", "attachments": "edit",
                          "bulk_move": "edit", "transfer": "transfer", "bulk_delete": "delete"}
    bulk_delete_service = staticmethod(services.delete_opportunities)
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
        return self.action_serializers.get(getattr(self, "action", None)) or super().get_serializer_class()

    action_serializers = {
        "move": MoveSerializer, "checklist": OpportunityChecklistStatusSerializer, "checklist_tick": OpportunityChecklistTickSerializer,
        "attachments": OpportunityUploadSerializer, "bulk_move": OpportunityBulkMoveSerializer, "transfer": OpportunityTransferSerializer,
        "bulk_delete": OpportunityIdsSerializer,
    }

    # -- SOP checklist of the current stage ------------------------------------------------------------
    def _checklist_response(self, opp):
        rows = services.checklist_status(opp)
        return Response(OpportunityChecklistStatusSerializer(rows, many=True, context=self.get_serializer_context()).data)

    @extend_schema(responses=OpportunityChecklistStatusSerializer(many=True), summary="The SOP checklist of the deal's current stage")
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def checklist(self, request, pk=None):
        return self._checklist_response(self.get_object())

    @extend_schema(
        request={"application/json": OpportunityChecklistTickSerializer, "multipart/form-data": OpportunityChecklistTickSerializer},
        responses={200: OpportunityChecklistStatusSerializer(many=True),
                   400: OpenApiResponse(description="The step needs a note / an attachment, or is not of the current stage.")},
        parameters=[OpenApiParameter("item_id", int, OpenApiParameter.PATH, description="Checklist item id")],
        summary="Tick (or untick) a step of the current stage, with its note / attachment",
    )
    @action(detail=True, methods=["post"], url_path=r"checklist/(?P<item_id>[0-9]{1,18})", pagination_class=None, filter_backends=[])
    def checklist_tick(self, request, pk=None, item_id=None):
        opp = self.get_object()
        item = ChecklistItem.objects.filter(pk=int(item_id)).first()
        if item is None:
            raise NotFound(_("Not found."))
        body = OpportunityChecklistTickSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        v = body.validated_data
        with transaction.atomic():
            attachment = None
            if v.get("file") is not None:
                attachment = _call(services.attach_file, request.user, opp, v["file"])
            elif v.get("attachment"):
                attachment = Attachment.objects.filter(
                    pk=v["attachment"], target_type=ContentType.objects.get_for_model(Opportunity), target_id=opp.pk,
                ).first()
                if attachment is None:
                    raise serializers.ValidationError({"attachment": [_("Not a file of this opportunity.")]})
            _call(services.complete_checklist_item, request.user, opp, item, note=v.get("note", ""), attachment=attachment,
                  done=v["done"])
        opp.refresh_from_db()
        return self._checklist_response(opp)

    @extend_schema(request={"multipart/form-data": OpportunityUploadSerializer}, responses={201: OpportunityAttachmentSerializer(many=True)},
                   summary="Upload files to the deal (e.g. for a checklist step)")
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=[])
    def attachments(self, request, pk=None):
        opp = self.get_object()
        body = OpportunityUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            created = [_call(services.attach_file, request.user, opp, f) for f in body.validated_data["files"]]
        return Response(OpportunityAttachmentSerializer(created, many=True, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    # -- list bulk actions (the same services as the list page) ----------------------------------------
    @extend_schema(request=OpportunityBulkMoveSerializer, responses=OpportunityBulkMoveResultSerializer,
                   summary="Move several deals to a stage; each passes the gate on its own (per-row result)")
    @action(detail=False, methods=["post"], url_path="bulk-move", pagination_class=None, filter_backends=[])
    def bulk_move(self, request):
        body = OpportunityBulkMoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = _call(services.bulk_move, request.user, body.validated_data["ids"], body.validated_data["stage"])
        results = [{"id": r["opportunity"].pk, "ok": r["ok"], "errors": r["errors"]} for r in rows]
        moved = sum(1 for r in results if r["ok"])
        return Response({"moved": moved, "failed": len(results) - moved, "results": results})

    @extend_schema(request=OpportunityTransferSerializer, responses=OpportunityCountSerializer, summary="Change the owner of several deals (needs 'transfer')")
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=[])
    def transfer(self, request):
        body = OpportunityTransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        count = _call(services.transfer_opportunities, request.user, body.validated_data["ids"], body.validated_data["owner"])
        return Response({"count": count})

