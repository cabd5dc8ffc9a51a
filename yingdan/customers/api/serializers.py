"""Customers and contacts over the API; writes go through customers.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer, CustomFieldsSerializerMixin

from .. import services
from ..models import Contact, Customer


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
        ]
        read_only_fields = ["department", "created_by", "created_at", "updated_at"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_customer(
            self.actor, instance, collaborators=m2m.get("collaborators"), tags=m2m.get("tags"),
            custom_fields=custom_fields, partial=self.partial,
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
        return services.save_contact(self.actor, instance, custom_fields=custom_fields, partial=self.partial)

    def delete_instance(self, instance):
        services.delete_contact(self.actor, instance)
