"""Pipelines, stages, loss reasons, competitors and opportunities over the API; writes go through services."""

from __future__ import annotations

import datetime

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.reverse import reverse

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer, CustomFieldsSerializerMixin
from yingdan.core.models import Attachment

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


class ChecklistItemWriteSerializer(BaseModelSerializer):
    """A step of a stage's SOP checklist (settings: pipelines module)."""

    class Meta:
        model = ChecklistItem
        permission_module = "pipelines"
        fields = ["id", "url", "display", "stage", "text", "order", "required", "needs_note", "needs_attachment", "is_active"]

    def validate_stage(self, value):
        if self.instance is not None and value.pk != self.instance.stage_id:
            raise serializers.ValidationError(_("A checklist item cannot move to another stage."))
        return value

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_checklist_item(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_checklist_item(self.actor, instance)


class OpportunityAttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "mime_type", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return reverse("core:attachment_download", args=[obj.pk], request=self.context.get("request"))


class OpportunityChecklistStatusSerializer(serializers.Serializer):
    item = ChecklistItemSerializer(read_only=True)
    done = serializers.BooleanField(read_only=True)
    note = serializers.CharField(read_only=True)
    attachment = OpportunityAttachmentSerializer(read_only=True, allow_null=True)
    done_by = serializers.SerializerMethodField()
    done_at = serializers.SerializerMethodField()
    lacks = serializers.ListField(child=serializers.ChoiceField(choices=["done", "note", "attachment"]), read_only=True,
                                  help_text="What the step still needs before the gate lets the deal leave the stage.")
    complete = serializers.BooleanField(read_only=True)

    def get_done_by(self, row) -> int | None:
        return row["completion"].done_by_id if row.get("completion") else None

    def get_done_at(self, row) -> datetime.datetime | None:
        return row["completion"].done_at if row.get("completion") else None


class OpportunityChecklistTickSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True, help_text="false unticks the step.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    attachment = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1,
                                          help_text="Id of a file already uploaded to this opportunity (POST …/attachments/).")
    file = serializers.FileField(required=False, help_text="Or upload the file with the tick (multipart/form-data).")


class OpportunityUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False, max_length=20)


class OpportunityIdsSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=1000)


class OpportunityBulkMoveSerializer(OpportunityIdsSerializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.filter(is_active=True))


class OpportunityTransferSerializer(OpportunityIdsSerializer):
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))


class OpportunityCountSerializer(serializers.Serializer):
    count = serializers.IntegerField()


class OpportunityBulkMoveRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class OpportunityBulkMoveResultSerializer(serializers.Serializer):
    moved = serializers.IntegerField()
    failed = serializers.IntegerField()
    results = OpportunityBulkMoveRowSerializer(many=True)


class StageReorderSerializer(serializers.Serializer):
    stages = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), min_length=1, max_length=200,
                                   help_text="Every active stage id of the pipeline, in the new order.")
