"""/api/v1/duplicate-rules/, /api/v1/duplicates/check/ and /merge/, /api/v1/transfer-requests/."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.viewsets import BaseModelViewSet

from .. import services
from ..models import DuplicateRule, TransferRequest
from .serializers import (
    CheckRequestSerializer,
    CheckResponseSerializer,
    DecisionSerializer,
    DuplicateRuleSerializer,
    MergeRequestSerializer,
    MergeResponseSerializer,
    TransferRequestSerializer,
)

SAVE_DOC = (
    "Saving customers, contacts and leads through the API runs the same checks with the rules' API action: "
    "a blocking match answers 400 with `error.fields.duplicates`; a warning answers 400 with "
    "`error.fields.duplicate_warning` — resend with `\"confirm_duplicates\": true` in the body to save anyway."
)


class DuplicateRuleViewSet(BaseModelViewSet):
    """Duplicate-check rules (查重规则): fields combined with AND, rules with OR, an action per entry point."""

    queryset = DuplicateRule.objects.all()
    serializer_class = DuplicateRuleSerializer
    permission_module = "settings"
    action_permissions = {"create": "edit", "destroy": "edit"}
    filterset_fields = ["object_type", "target_type", "is_active"]
    ordering_fields = ("id", "order")


def _django_error(exc: DjangoValidationError):
    return serializers.ValidationError(django_errors_to_api(exc))


class DuplicatesViewSet(viewsets.ViewSet):
    """The duplicate look-up tool and merging."""

    permission_module = None  # each action checks the object's module

    @extend_schema(
        request=CheckRequestSerializer, responses=CheckResponseSerializer,
        description="Which existing records the active rules consider duplicates of these values. Company-wide, "
                    "whatever your data scope; each match shows only the matched fields, the owner, the owner's "
                    "department and the pool status (plus the name when the record is in your own scope). " + SAVE_DOC,
    )
    @action(detail=False, methods=["post"])
    def check(self, request):
        data = CheckRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k not in ("object", "exclude", "entry_point") and v not in (None, "")}
        try:
            hits = services.check_data(request.user, data.validated_data["object"], values, exclude_pk=data.validated_data.get("exclude"),
                                       limit=10, entry_point=data.validated_data["entry_point"])
        except DjangoValidationError as exc:
            raise _django_error(exc) from exc
        return Response({"matches": hits, "blocked": any(h["action"] == "block" for h in hits)})

    @extend_schema(request=MergeRequestSerializer, responses=MergeResponseSerializer,
                   description="Merge `other` into `survivor` (same object type; edit and delete permission on both, both in "
                               "your scope). Linked records move to the survivor; `other` is deleted and its id redirects.")
    @action(detail=False, methods=["post"])
    def merge(self, request):
        data = MergeRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            survivor = services.merge(request.user, v["object"], v["survivor"], v["other"], choices=v.get("choices") or {})
        except DjangoValidationError as exc:
            raise _django_error(exc) from exc
        return Response({"id": survivor.pk, "object": v["object"], "merged": v["other"]})


class TransferRequestViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Requests to take over a record another rep holds (from a duplicate hit). The owner's department manager
    (or users with the transfer permission over it, or administrators) approves or refuses."""

    queryset = TransferRequest.objects.select_related("requester", "current_owner", "department", "decided_by")
    serializer_class = TransferRequestSerializer
    permission_module = None
    filterset_fields = ["status", "object_type"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.queryset.visible_to(self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = serializer.save()
        except DjangoValidationError as exc:
            raise _django_error(exc) from exc

    def _decide(self, request, decision: str):
        req = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = body.validated_data.get("note", "")
        try:
            if decision == "approve":
                req = services.approve_transfer(request.user, req, note)
            elif decision == "refuse":
                req = services.refuse_transfer(request.user, req, note)
            else:
                req = services.cancel_transfer(request.user, req)
        except DjangoValidationError as exc:
            raise _django_error(exc) from exc
        return Response(self.get_serializer(req).data, status=status.HTTP_200_OK)

    @extend_schema(request=DecisionSerializer, responses=TransferRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, "approve")

    @extend_schema(request=DecisionSerializer, responses=TransferRequestSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        return self._decide(request, "refuse")

    @extend_schema(request=None, responses=TransferRequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._decide(request, "cancel")
