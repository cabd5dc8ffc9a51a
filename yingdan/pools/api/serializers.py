"""Public pools over the API: configuration (pools module, through `save_pool` / `delete_pool`, validated like
the pool form), claim/assign/release through the pool services, the company-wide settings and recycling."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.models import Lookup
from yingdan.org.models import Department

from .. import services
from ..forms import HIDEABLE_FIELDS
from ..models import Pool, PoolObject, PoolSettings

RULE_KEYS = ("no_followup_days", "no_won_days")


def clean_recycle_rules(value) -> dict:
    """`{"default" | "<customer level id>": {"no_followup_days": 1..3650 | null, "no_won_days": 1..3650 | null}}` —
    the structure the pool form builds from its fields."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise serializers.ValidationError(_("An object keyed by \"default\" or a customer level id."))
    levels = None
    out = {}
    for key, rule in value.items():
        key = str(key)
        if key != "default":
            if levels is None:
                levels = {str(pk) for pk in Lookup.objects.filter(kind="customer_level").values_list("pk", flat=True)}
            if key not in levels:
                raise serializers.ValidationError(_("Unknown customer level “%(name)s”.") % {"name": key})
        if not isinstance(rule, dict) or set(rule) - set(RULE_KEYS):
            raise serializers.ValidationError(_("Each rule has only no_followup_days and no_won_days."))
        clean = {}
        for name in RULE_KEYS:
            days = rule.get(name)
            if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= 3650):
                raise serializers.ValidationError(_("Days must be a whole number from 1 to 3650."))
            clean[name] = days
        out[key] = clean
    return out


class PoolSerializer(BaseModelSerializer):
    record_count = serializers.SerializerMethodField(help_text="Records currently in the pool.")
    is_admin = serializers.SerializerMethodField(help_text="Whether the requesting user administers this pool.")
    object_type = serializers.ChoiceField(choices=PoolObject.choices, required=False,
                                          help_text="What the pool holds: customer or lead. Set on create, fixed afterwards.")
    departments = NestedRelatedField(queryset=Department.objects.all(), many=True, required=False, brief_fields=("name",),
                                     url_name="department", help_text="Departments in scope (empty: company-wide).")
    admins = NestedRelatedField(queryset=get_user_model().objects.filter(is_active=True), many=True, required=False,
                                brief_fields=("username", "name"), url_name="user", help_text="Pool admins.")
    members = NestedRelatedField(queryset=get_user_model().objects.filter(is_active=True), many=True, required=False,
                                 brief_fields=("username", "name"), url_name="user",
                                 help_text="Users who may see and claim (empty: everyone in the departments in scope).")
    hidden_fields = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=50,
                                          help_text="Fields hidden while a record sits in the pool (customer: " + ", ".join(HIDEABLE_FIELDS[PoolObject.CUSTOMER])
                                          + "; lead: " + ", ".join(HIDEABLE_FIELDS[PoolObject.LEAD]) + ").")
    recycle_rules = serializers.JSONField(required=False, help_text=(
        "{\"default\": {\"no_followup_days\": 30, \"no_won_days\": null}, \"<customer level id>\": {...}}; days 1–3650 or null."))

    class Meta:
        model = Pool
        fields = [
            "id", "url", "display", "name", "object_type", "kind", "description", "is_default", "is_active",
            "departments", "admins", "members",
            "hold_cap", "count_won", "daily_claim_cap", "cooldown_days", "recycle_enabled", "recycle_rules",
            "warn_days", "hidden_fields", "clear_department", "record_count", "is_admin",
        ]

    def validate_object_type(self, value):
        if self.instance is not None and value != self.instance.object_type:
            raise serializers.ValidationError(_("What a pool holds cannot change."))
        return value

    def validate_recycle_rules(self, value):
        return clean_recycle_rules(value)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        object_type = attrs.get("object_type") or (instance.object_type if instance else PoolObject.CUSTOMER)
        allowed = HIDEABLE_FIELDS.get(object_type, [])
        hidden = attrs.get("hidden_fields")
        if hidden is not None:
            bad = [name for name in hidden if name not in allowed]
            if bad:
                raise serializers.ValidationError({"hidden_fields": [
                    _("Select a valid choice. %(value)s is not one of the available choices.") % {"value": bad[0]}]})
        enabled = attrs.get("recycle_enabled", instance.recycle_enabled if instance else False)
        rules = attrs.get("recycle_rules", instance.recycle_rules if instance else {}) or {}
        if services.recycling_without_limit(enabled, rules):
            raise serializers.ValidationError({"recycle_rules": [_("Automatic recycling needs at least one time limit.")]})
        return attrs

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_pool(self.actor, instance, departments=m2m.get("departments"), admins=m2m.get("admins"),
                                  members=m2m.get("members"))

    def delete_instance(self, instance):
        services.delete_pool(self.actor, instance)

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


class PoolSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolSettings
        fields = ["customer_hold_cap", "lead_hold_cap", "count_won"]


class RecyclePoolSerializer(serializers.Serializer):
    pool = serializers.IntegerField()
    name = serializers.CharField()
    object_type = serializers.CharField()
    count = serializers.IntegerField(help_text="Records tonight's run would return to this pool.")


class RecyclePreviewSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pools = RecyclePoolSerializer(many=True)


class RecycleStartedSerializer(serializers.Serializer):
    started = serializers.BooleanField()


class PoolRecordSerializer(serializers.Serializer):
    """A record as it sits in a pool: the fields the pool hides from you (and your hidden fields) are absent."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField(allow_blank=True), help_text=(
        "The pool page's columns you may see (company, level, status, industry/source, city, phone/mobile, "
        "previous owner, time it entered the pool), as display text."))
