"""Customers and contacts over the API; writes go through customers.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer, CustomFieldsSerializerMixin
from yingdan.pools import services as pool_services
from yingdan.pools.models import Pool

from .. import services
from ..models import Contact, Customer


def confirm_duplicates(serializer) -> bool:
    """`"confirm_duplicates": true` in the request body saves despite duplicate *warnings* (blocks still refuse)."""
    value = (getattr(serializer, "initial_data", None) or {}).get("confirm_duplicates")
    return value is True or str(value).lower() in ("1", "true")


class CustomerSerializer(CustomFieldsSerializerMixin, BaseModelSerializer):
    owner = NestedRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        brief_fields=("username", "name"),
        url_name="user",
        scoped=True,
        required=False,
        allow_null=True,
        help_text="Owner (负责人). Setting another user, or changing it, needs the 'transfer' permission.",
    )

    class Meta:
        model = Customer
        fields = [
            "id", "url", "display", "name", "short_name", "credit_code", "industry", "source", "level", "status",
            "province", "city", "district", "address", "website", "phone", "tags", "owner", "department",
            "collaborators", "remarks", "custom_fields", "created_by", "created_at", "updated_at",
            "pool", "pool_entered_at", "previous_owner", "owner_since", "last_contact_at", "next_followup_at",
        ]
        read_only_fields = [
            "department", "created_by", "created_at", "updated_at",
            "pool", "pool_entered_at", "previous_owner", "owner_since", "last_contact_at", "next_followup_at",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        # Fields the customer's public pool hides while it sits there (for non-admins of that pool).
        if self.actor is not None and getattr(instance, "pool_id", None):
            for name in pool_services.hidden_fields_for(self.actor, instance):
                if name.startswith("cf_") and isinstance(data.get("custom_fields"), dict):
                    data["custom_fields"].pop(name[3:], None)
                else:
                    data.pop(name, None)
        return data

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_customer(
            self.actor, instance, collaborators=m2m.get("collaborators"), tags=m2m.get("tags"),
            custom_fields=custom_fields, partial=self.partial,
            entry_point="api", confirm_duplicates=confirm_duplicates(self),
        )

    def delete_instance(self, instance):
        services.delete_customer(self.actor, instance)


class ContactSerializer(CustomFieldsSerializerMixin, BaseModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id", "url", "display", "name", "customer", "title", "mobile", "phone", "email", "wechat", "is_primary",
            "birthday", "remarks", "custom_fields", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_contact(self.actor, instance, custom_fields=custom_fields, partial=self.partial,
                                     entry_point="api", confirm_duplicates=confirm_duplicates(self))

    def delete_instance(self, instance):
        services.delete_contact(self.actor, instance)


# -- public pool actions (yingdan.pools.services) ---------------------------------------------------------
class PoolClaimSerializer(serializers.Serializer):
    """No body: the customer in the URL is claimed from its pool."""


class PoolReleaseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, help_text="Why the customer returns to the pool (required).")
    pool = serializers.PrimaryKeyRelatedField(
        queryset=Pool.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="Target pool; default: the pool covering the customer's department, else the default pool.",
    )


class PoolOwnerSerializer(serializers.Serializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), help_text="The user who receives the customer (must be active).",
    )


class PoolCountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many records changed.")

