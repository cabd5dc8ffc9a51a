"""Tasks over the API; writes go through tasks.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import serializers

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer

from .. import services
from ..models import LINKABLE_MODELS, Task

API_NAMES = {"target_type": "linked_type", "target_id": "linked_id"}


class TaskSerializer(BaseModelSerializer):
    owner = NestedRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), brief_fields=("username", "name"), url_name="user",
        scoped=True, required=False, allow_null=True,
        help_text="Assignee (负责人). Another user than yourself needs the 'transfer' permission.",
    )
    linked_type = serializers.ChoiceField(
        choices=LINKABLE_MODELS, required=False, allow_null=True, allow_blank=True, source="target_label",
        help_text="Kind of the linked record, e.g. customers.customer; with linked_id.",
    )
    linked_id = serializers.IntegerField(source="target_id", required=False, allow_null=True, min_value=1)

    class Meta:
        model = Task
        fields = [
            "id", "url", "display", "title", "description", "due_at", "priority", "status", "completed_at",
            "linked_type", "linked_id", "owner", "department", "collaborators", "recurrence", "recurrence_interval",
            "recurrence_until", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["completed_at", "department", "created_by", "created_at", "updated_at"]

    def to_representation(self, instance):
        ct = instance.target_type if instance.target_type_id else None
        instance.target_label = f"{ct.app_label}.{ct.model}" if ct else None
        return super().to_representation(instance)

    _unset = object()

    def create(self, validated_data):
        self._target_label = validated_data.pop("target_label", None)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        """A status change goes through `set_status` like the page's status buttons: done completes the task
        (a repeating task gets its next occurrence), a cancelled task must be reopened before it is done."""
        self._target_label = validated_data.pop("target_label", self._unset)
        new_status = validated_data.pop("status", None)
        if new_status is None or new_status == instance.status:
            return super().update(instance, validated_data)
        with transaction.atomic():
            task = super().update(instance, validated_data)
            try:
                return services.set_status(self.actor, task, new_status)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(django_errors_to_api(exc))

    def save_instance(self, instance, *, m2m, custom_fields):
        label = getattr(self, "_target_label", None)
        if label is not self._unset:
            instance.target_type = services.linkable_type(label) if label else None
        try:
            return services.save_task(self.actor, instance, collaborators=m2m.get("collaborators"))
        except DjangoValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # The API names the link linked_type / linked_id.
            renamed = {API_NAMES.get(k, k): v for k, v in exc.message_dict.items()}
            raise DjangoValidationError(renamed) from exc

    def delete_instance(self, instance):
        services.delete_task(self.actor, instance)
