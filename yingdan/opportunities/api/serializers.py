"""Pipelines, stages, loss reasons, competitors and opportunities over the API; writes go through services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer, CustomFieldsSerializerMixin

from .. import services
from ..models import ChecklistItem, Competitor, LossReason, Opportunity, Pipeline, Stage


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "text", "order", "required", "needs_note", "needs_attachment", "is_active"]


class PipelineSerializer(BaseModelSerializer):
    class Meta:
        model = Pipeline
        fields = ["id", "url", "display", "name", "description", "departments", "order", "is_default", "is_active", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_pipeline(self.actor, instance, departments=m2m.get("departments"))

    def delete_instance(self, instance):
        services.delete_pipeline(self.actor, instance)


class StageSerializer(BaseModelSerializer):
    checklist = serializers.SerializerMethodField(help_text="The stage's SOP checklist items (edit them on the settings page).")
    required_fields = serializers.ListField(child=serializers.CharField(), required=False,
                                            help_text="Fields required to enter the stage: built-in names or cf_<key> for custom fields.")

    class Meta:
        model = Stage
        fields = ["id", "url", "display", "pipeline", "name", "order", "color", "kind", "probability", "forecast_category",
                  "time_limit_days", "required_fields", "is_active", "checklist"]

    def get_checklist(self, obj) -> list[dict]:
        return ChecklistItemSerializer([i for i in obj.checklist.all() if i.is_active], many=True).data

    def validate_pipeline(self, value):
        if self.instance is not None and value.pk != self.instance.pipeline_id:
            raise serializers.ValidationError("A stage cannot move to another pipeline.")
        return value

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_stage(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_stage(self.actor, instance)


class LossReasonSerializer(BaseModelSerializer):
    class Meta:
        model = LossReason
        permission_module = "settings"
        fields = ["id", "url", "display", "parent", "name", "order", "is_active"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_loss_reason(self.actor, instance)


class CompetitorSerializer(BaseModelSerializer):
    class Meta:
        model = Competitor
        permission_module = "settings"
        fields = ["id", "url", "display", "name", "website", "is_active"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_competitor(self.actor, instance)


class OpportunitySerializer(CustomFieldsSerializerMixin, BaseModelSerializer):
    owner = NestedRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), brief_fields=("username", "name"), url_name="user", scoped=True,
        required=False, allow_null=True, help_text="Owner (负责人). Setting another user, or changing it, needs 'transfer'.",
    )
    probability = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True,
                                           help_text="Win probability in %; defaults from the stage.")

    class Meta:
        model = Opportunity
        fields = [
            "id", "url", "display", "name", "customer", "contacts", "amount", "currency", "expected_close", "pipeline", "stage",
            "state", "probability", "owner", "department", "collaborators", "source", "next_step", "description",
            "stage_entered_at", "closed_at", "loss_reason", "competitor", "loss_note", "version", "custom_fields",
            "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["state", "department", "stage_entered_at", "closed_at", "loss_reason", "competitor", "loss_note",
                            "version", "created_by", "created_at", "updated_at"]
        extra_kwargs = {
            "stage": {"required": False, "help_text": "On create: an open stage (default: the pipeline's first). Change it with POST …/move/."},
            "pipeline": {"required": False, "help_text": "On create (default: the default pipeline). Fixed afterwards."},
        }

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_opportunity(
            self.actor, instance, contacts=m2m.get("contacts"), collaborators=m2m.get("collaborators"),
            custom_fields=custom_fields, partial=self.partial,
        )

    def delete_instance(self, instance):
        services.delete_opportunity(self.actor, instance)


class ChecklistTickSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    attachment = serializers.IntegerField(required=False, allow_null=True, help_text="Id of an attachment uploaded to this opportunity.")


class MoveSerializer(serializers.Serializer):
    stage = serializers.IntegerField(help_text="Target stage id (of the opportunity's pipeline).")
    version = serializers.IntegerField(required=False, allow_null=True,
                                       help_text="The `version` you last read; if the deal moved meanwhile the move is refused with 409.")
    values = serializers.DictField(required=False, help_text="Fields to fill while moving, e.g. {\"amount\": \"120000\", \"cf_budget\": 5}.")
    checklist = serializers.DictField(child=ChecklistTickSerializer(), required=False,
                                      help_text="Checklist items of the current stage to tick: {\"<item id>\": {\"note\": \"...\"}}.")
    loss_reason = serializers.PrimaryKeyRelatedField(queryset=LossReason.objects.filter(is_active=True), required=False, allow_null=True)
    competitor = serializers.PrimaryKeyRelatedField(queryset=Competitor.objects.filter(is_active=True), required=False, allow_null=True)
    loss_note = serializers.CharField(required=False, allow_blank=True, max_length=500)
