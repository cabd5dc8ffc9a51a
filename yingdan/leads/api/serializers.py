"""Leads over the API; writes go through leads.services."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer, CustomFieldsSerializerMixin
from yingdan.org.models import Department

from .. import services
from ..models import AssignmentRule, Lead


class LeadSerializer(CustomFieldsSerializerMixin, BaseModelSerializer):
    owner = NestedRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        brief_fields=("username", "name"),
        url_name="user",
        scoped=True,
        required=False,
        allow_null=True,
        help_text="Owner (负责人). Setting another user, or changing it, needs the 'transfer' permission.",
    )
    assign_to_department = serializers.PrimaryKeyRelatedField(
        queryset=Department.objects.filter(is_active=True), required=False, allow_null=True, write_only=True,
        help_text="New leads only: a team (department id) whose assignment rule picks the owner (round robin or "
                  "fewest open records). Needs the 'transfer' permission; leave `owner` empty.",
    )
    is_converted = serializers.BooleanField(read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id", "url", "display", "name", "company", "title", "mobile", "phone", "email", "source", "status",
            "province", "city", "district", "owner", "department", "collaborators", "pool", "remarks",
            "custom_fields", "is_converted", "converted_customer", "converted_contact", "converted_at",
            "last_contact_at", "next_followup_at", "assign_to_department", "created_by", "created_at", "updated_at",
        ]
        read_only_fields = [
            "department", "pool", "converted_customer", "converted_contact", "converted_at", "last_contact_at",
            "next_followup_at", "created_by", "created_at", "updated_at",
        ]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("assign_to_department") is not None:
            if self.instance is not None:
                raise serializers.ValidationError({"assign_to_department": [_("Only new leads are assigned to a team; change the owner instead.")]})
            if attrs.get("owner") is not None:
                raise serializers.ValidationError({"assign_to_department": [_("Choose either an owner or a team to assign within, not both.")]})
        return attrs

    def create(self, validated_data):
        self._team = validated_data.pop("assign_to_department", None)
        return super().create(validated_data)

    def update(self, instance, validated_data):
        validated_data.pop("assign_to_department", None)
        return super().update(instance, validated_data)

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_lead(
            self.actor, instance, collaborators=m2m.get("collaborators"), custom_fields=custom_fields,
            partial=self.partial, assign_to_department=getattr(self, "_team", None),
        )

    def delete_instance(self, instance):
        services.delete_lead(self.actor, instance)


class LeadConvertSerializer(serializers.Serializer):
    customer = serializers.IntegerField(
        required=False, allow_null=True,
        help_text="Attach to this existing customer (one you may edit) instead of creating one.",
    )
    customer_values = serializers.DictField(
        required=False, default=dict,
        help_text="Values of the new customer (name, credit_code, industry, source, level, phone, province, city, "
                  "district, address, website, remarks, owner); defaults come from the lead.",
    )
    contact_values = serializers.DictField(
        required=False, default=dict, help_text="Values of the contact (name, title, mobile, phone, email, wechat, remarks).",
    )
    create_contact = serializers.BooleanField(required=False, default=True)
    confirm_duplicates = serializers.BooleanField(required=False, default=False)


class AssignmentRuleSerializer(BaseModelSerializer):
    class Meta:
        model = AssignmentRule
        fields = ["id", "url", "display", "department", "method", "load_basis", "members", "last_assigned", "created_at", "updated_at"]
        read_only_fields = ["last_assigned", "created_at", "updated_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        team = attrs.get("department") or getattr(self.instance, "department", None)
        members = attrs.get("members")
        if team is not None and members:
            tree = set(team.descendant_ids(include_self=True))
            outside = [m.pk for m in members if m.department_id not in tree]
            if outside:
                names = "、".join(str(m) for m in members if m.pk in outside)
                raise serializers.ValidationError({"members": [_("Not in this team: %(names)s") % {"names": names}]})
        return attrs

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_assignment_rule(self.actor, instance, members=m2m.get("members"))

    def delete_instance(self, instance):
        services.delete_assignment_rule(self.actor, instance)
