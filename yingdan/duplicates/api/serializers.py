from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yingdan.core.api.serializers import BaseModelSerializer

from .. import services
from ..models import DuplicateRule, ObjectType, TransferRequest, TransferStatus


def inline_choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field documented as a string listing its values: an enum component would collide with other
    apps' `object_type`/`action` enums (drf-spectacular names enums by field name)."""
    values = [str(c[0]) for c in choices]

    @extend_schema_field({"type": "string", "description": "One of: " + ", ".join(values)})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


ACTION_CHOICES = [("warn", "warn"), ("block", "block")]


class DuplicateRuleSerializer(BaseModelSerializer):
    object_type = inline_choice(ObjectType.choices, help_text="The object being saved.")
    target_type = inline_choice(ObjectType.choices, help_text="The existing records it is compared with.")
    form_action = inline_choice(ACTION_CHOICES, required=False)
    api_action = inline_choice(ACTION_CHOICES, required=False)
    import_action = inline_choice(ACTION_CHOICES, required=False)
    conditions = serializers.JSONField(
        help_text='Fields combined with AND: [{"field": "company", "match": "fuzzy", "threshold": 90}, '
                  '{"field": "phone", "match": "exact"}]. Fields: company, person, phone, mobile, email, credit_code, customer.'
    )

    class Meta:
        model = DuplicateRule
        fields = ["id", "url", "display", "name", "object_type", "target_type", "conditions", "form_action", "api_action",
                  "import_action", "is_active", "order", "code"]
        read_only_fields = ["code"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_rule(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_rule(self.actor, instance)


class CheckRequestSerializer(serializers.Serializer):
    object = inline_choice(ObjectType.choices, help_text="What you are about to save: customer, contact or lead.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Customer: company name; contact/lead: person name.")
    company = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Lead: company name.")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)
    mobile = serializers.CharField(required=False, allow_blank=True, max_length=50)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    credit_code = serializers.CharField(required=False, allow_blank=True, max_length=30)
    customer = serializers.IntegerField(required=False, allow_null=True, help_text="Contact: the customer id.")
    exclude = serializers.IntegerField(required=False, allow_null=True, help_text="Id of the record being edited (not a duplicate of itself).")
    entry_point = inline_choice([("form", "form"), ("api", "api"), ("import", "import")], default="api", help_text="Picks each rule's action.")


class MatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="Id of the matched record (shown whatever your data scope; its data is not).")
    object = serializers.CharField(help_text="customer, contact or lead")
    fields = serializers.ListField(child=serializers.CharField(), help_text="The fields that matched.")
    score = serializers.FloatField(help_text="100 for exact matches; the similarity for fuzzy company names.")
    action = inline_choice(ACTION_CHOICES)
    owner = serializers.CharField(allow_null=True)
    department = serializers.CharField(allow_null=True, help_text="The owner's department.")
    status = inline_choice([("held", "held"), ("pool", "pool"), ("unowned", "unowned")])
    pool = serializers.CharField(allow_null=True, help_text="The public pool it sits in, if any.")
    name = serializers.CharField(allow_null=True, help_text="Only when the record is inside your own data scope.")


class CheckResponseSerializer(serializers.Serializer):
    matches = MatchSerializer(many=True)
    blocked = serializers.BooleanField(help_text="A blocking rule matched: saving will be refused.")


class MergeRequestSerializer(serializers.Serializer):
    object = inline_choice(ObjectType.choices)
    survivor = serializers.IntegerField(help_text="Id of the record that stays.")
    other = serializers.IntegerField(help_text="Id of the record merged into it and deleted (its id redirects).")
    choices = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "other"]), required=False,
        help_text='Per field (custom fields as cf_KEY) whose value survives; default: the survivor\'s, or the other\'s when empty.',
    )


class MergeResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    object = serializers.CharField()
    merged = serializers.IntegerField(help_text="The merged-away id, which now redirects to `id`.")


class TransferRequestSerializer(BaseModelSerializer):
    object_type = inline_choice([("customer", "customer"), ("lead", "lead")])
    status = inline_choice(TransferStatus.choices, read_only=True)
    class Meta:
        model = TransferRequest
        permission_module = "customers"
        fields = ["id", "url", "display", "object_type", "object_id", "object_repr", "requester", "current_owner", "department",
                  "status", "reason", "decided_by", "decided_at", "note", "created_at"]
        read_only_fields = ["object_repr", "requester", "current_owner", "department", "status", "decided_by", "decided_at",
                            "note", "created_at"]

    def create(self, validated_data):
        return services.request_transfer(self.actor, validated_data["object_type"], validated_data["object_id"], validated_data.get("reason", ""))


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)
