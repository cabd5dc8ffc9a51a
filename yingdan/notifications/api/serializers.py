from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yingdan.core import registry

from ..models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.SerializerMethodField(help_text="The kind's label in the user's language.")
    actor = serializers.SerializerMethodField(help_text="Who caused the notification (null: the system).")
    target_type = serializers.SerializerMethodField(help_text="app_label.model of the record it is about, if any.")
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "title", "body", "url", "actor", "target_type", "target_id",
                  "created_at", "read_at", "is_read"]
        read_only_fields = fields

    def get_kind_label(self, obj) -> str:
        return str(registry.notification_kinds.get(obj.kind, obj.kind))

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}})
    def get_actor(self, obj):
        if obj.actor_id is None:
            return None
        return {"id": obj.actor_id, "name": obj.actor.display_name}

    def get_target_type(self, obj) -> str | None:
        if obj.target_type_id is None:
            return None
        return f"{obj.target_type.app_label}.{obj.target_type.model}"

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="Unread notifications (at most 99).")
    capped = serializers.BooleanField(help_text="True when there are more than 99.")


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications changed from unread to read.")
