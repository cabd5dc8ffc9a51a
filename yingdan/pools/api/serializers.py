"""Public pools over the API (read-only configuration; claim/assign through the pool services)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from yingdan.core.api.serializers import BaseModelSerializer

from .. import services
from ..models import Pool


class PoolSerializer(BaseModelSerializer):
    record_count = serializers.SerializerMethodField(help_text="Records currently in the pool.")
    is_admin = serializers.SerializerMethodField(help_text="Whether the requesting user administers this pool.")
    object_type = serializers.CharField(read_only=True, help_text="What the pool holds: customer or lead.")

    class Meta:
        model = Pool
        fields = [
            "id", "url", "display", "name", "object_type", "kind", "description", "is_default", "is_active",
            "hold_cap", "count_won", "daily_claim_cap", "cooldown_days", "recycle_enabled", "recycle_rules",
            "warn_days", "hidden_fields", "clear_department", "record_count", "is_admin",
        ]
        read_only_fields = fields

    def get_record_count(self, pool) -> int:
        counts = self.context.get("pool_counts")
        if counts is not None and pool.pk in counts:
            return counts[pool.pk]
        return services.model_for(pool.object_type).objects.filter(pool_id=pool.pk).count()

    def get_is_admin(self, pool) -> bool:
        return bool(self.actor and services.is_pool_admin(self.actor, pool))


class PoolClaimSerializer(serializers.Serializer):
    object_id = serializers.IntegerField(help_text="Id of the customer or lead (by the pool's kind of record) to claim.")


class PoolAssignSerializer(serializers.Serializer):
    object_ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=1000)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all(), help_text="An active user.")


class PoolResultSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    object_id = serializers.IntegerField(required=False)
