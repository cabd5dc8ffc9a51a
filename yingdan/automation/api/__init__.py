"""/api/v1/automation-rules/ (+ /runs/) and /api/v1/sales-briefs/ (+ /preview/)."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.filters import BaseFilterSet
from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.api.viewsets import BaseModelViewSet

from .. import brief, services
from ..models import AutomationRule, BriefSchedule, RuleRun

WRITES = {"create": "edit", "update": "edit", "partial_update": "edit", "destroy": "edit", "runs": "view",
          "preview": "view", "enable": "edit", "disable": "edit"}


class RuleRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleRun
        fields = ["id", "rule", "object_type", "object_id", "event", "result", "message", "at"]


class AutomationRuleSerializer(BaseModelSerializer):
    class Meta:
        model = AutomationRule
        permission_module = "settings"
        fields = ["id", "url", "display", "name", "object_type", "trigger", "trigger_field", "trigger_value", "offset_days",
                  "conditions", "actions", "is_active", "disabled_reason", "created_by", "created_at", "updated_at"]
        read_only_fields = ["disabled_reason", "created_by", "created_at", "updated_at"]

    def build_url_field(self, field_name, model_class):
        return serializers.HyperlinkedIdentityField, {"view_name": "automationrule-detail"}

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_rule(self.actor, instance)

    def delete_instance(self, instance) -> None:
        services.delete_rule(self.actor, instance)


class RuleFilterSet(BaseFilterSet):
    object_type = django_filters.CharFilter()
    trigger = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = AutomationRule
        fields = []


class AutomationRuleViewSet(BaseModelViewSet):
    """Automation rules (零代码): trigger, conditions and actions on an object. Needs the settings permission.
    `GET /{id}/runs/` is the run log (newest first, paged)."""

    queryset = AutomationRule.objects.all()
    serializer_class = AutomationRuleSerializer
    filterset_class = RuleFilterSet
    permission_module = "settings"
    action_permissions = WRITES
    select_related_fields = ("created_by",)
    ordering_fields = ("id", "name")
    search_fields = ("name",)

    @extend_schema(responses=RuleRunSerializer(many=True), summary="The rule's run log")
    @action(detail=True, methods=["get"])
    def runs(self, request, pk=None):
        rule = self.get_object()
        qs = RuleRun.objects.filter(rule=rule).order_by("-id")
        result = request.query_params.get("result")
        if result:
            qs = qs.filter(result=result)
        page = self.paginate_queryset(qs)
        data = RuleRunSerializer(page if page is not None else qs, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def paginate_queryset(self, queryset):
        if self.action == "runs":
            from rest_framework.pagination import LimitOffsetPagination

            self._paginator = LimitOffsetPagination()
        return super().paginate_queryset(queryset)

    def _toggle(self, request, active):
        rule = self.get_object()
        try:
            services.set_rule_active(request.user, rule, active)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(django_errors_to_api(exc))
        return Response(self.get_serializer(rule).data)

    @extend_schema(request=None, responses=AutomationRuleSerializer, summary="Enable the rule")
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return self._toggle(request, True)

    @extend_schema(request=None, responses=AutomationRuleSerializer, summary="Disable the rule")
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return self._toggle(request, False)


class BriefScheduleSerializer(BaseModelSerializer):
    class Meta:
        model = BriefSchedule
        permission_module = "settings"
        fields = ["id", "url", "display", "name", "department", "frequency", "weekday", "send_time", "robot_ids", "emails",
                  "users", "is_active", "last_period", "created_at"]
        read_only_fields = ["last_period", "created_at"]

    def build_url_field(self, field_name, model_class):
        return serializers.HyperlinkedIdentityField, {"view_name": "briefschedule-detail"}

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_brief(self.actor, instance, users=m2m.get("users"))

    def delete_instance(self, instance) -> None:
        services.delete_brief(self.actor, instance)


class BriefScheduleViewSet(BaseModelViewSet):
    """Sales brief (销售简报) schedules. `GET /{id}/preview/` renders the brief for the current period."""

    queryset = BriefSchedule.objects.all()
    serializer_class = BriefScheduleSerializer
    permission_module = "settings"
    action_permissions = WRITES
    select_related_fields = ("department",)
    prefetch_related_fields = ("users",)

    @extend_schema(responses=inline_serializer("BriefPreview", {"period": serializers.CharField(),
                                                                 "markdown": serializers.CharField(),
                                                                 "html": serializers.CharField()}),
                   summary="Preview the brief")
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        result = brief.preview(self.get_object())
        return Response({"period": result["key"], "markdown": result["markdown"], "html": result["html"]})


def register(router) -> None:
    router.register("automation-rules", AutomationRuleViewSet, basename="automationrule")
    router.register("sales-briefs", BriefScheduleViewSet, basename="briefschedule")
