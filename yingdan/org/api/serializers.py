"""Users, departments and roles over the API; writes go through org.services."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yingdan.core import registry
from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.choices import DataScope, FieldAccess
from yingdan.core.permissions import get_permissions

from .. import services
from ..models import Department, Role, User

PERMISSIONS_SCHEMA = {
    "type": "object",
    "description": 'Per module: {"actions": [...], "scope": "own|department|department_tree|all"}.',
    "additionalProperties": {
        "type": "object",
        "properties": {
            "actions": {"type": "array", "items": {"type": "string"}},
            "scope": {"type": "string", "enum": list(DataScope.values)},
        },
    },
}
FIELD_PERMISSIONS_SCHEMA = {
    "type": "object",
    "description": 'Per module: {field: "read"|"hidden"} (custom fields as cf_<key>); fields not listed are editable.',
    "additionalProperties": {
        "type": "object",
        "additionalProperties": {"type": "string", "enum": list(FieldAccess.values)},
    },
}


class UserSerializer(BaseModelSerializer):
    password = serializers.CharField(
        write_only=True, required=False, allow_blank=False, style={"input_type": "password"},
        help_text="Sets a new password (never returned).",
    )

    class Meta:
        model = User
        fields = [
            "id", "url", "display", "username", "name", "mobile", "email", "title", "department", "roles",
            "language", "is_active", "deactivated_at", "last_login", "date_joined", "password",
        ]
        read_only_fields = ["is_active", "deactivated_at", "last_login", "date_joined"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        password = attrs.get("password")
        if password:
            candidate = self.instance or User(**{k: v for k, v in attrs.items() if k not in ("roles", "password")})
            try:
                validate_password(password, candidate)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"password": exc.messages})
        return attrs

    def save_instance(self, instance, *, m2m, custom_fields):
        password = getattr(instance, "_api_password", None)
        return services.save_user(self.actor, instance, roles=m2m.get("roles"), password=password)

    def create(self, validated_data):
        password = validated_data.pop("password", None)
        data, m2m = self._split_m2m(dict(validated_data))
        instance = User(**data)
        instance._api_password = password
        return self._save(instance, m2m, None)

    def update(self, instance, validated_data):
        instance._api_password = validated_data.pop("password", None)
        return super().update(instance, validated_data)


class DepartmentSerializer(BaseModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "url", "display", "name", "parent", "path", "depth", "manager", "order", "is_active", "created_at"]
        read_only_fields = ["path", "depth", "created_at"]

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_department(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_department(self.actor, instance)


@extend_schema_field(PERMISSIONS_SCHEMA)
class PermissionsField(serializers.JSONField):
    pass


@extend_schema_field(FIELD_PERMISSIONS_SCHEMA)
class FieldPermissionsField(serializers.JSONField):
    pass


class RoleSerializer(BaseModelSerializer):
    permissions = PermissionsField(required=False)
    field_permissions = FieldPermissionsField(required=False)

    class Meta:
        model = Role
        fields = [
            "id", "url", "display", "name", "code", "description", "is_builtin", "is_admin", "permissions",
            "field_permissions", "created_at",
        ]
        read_only_fields = ["is_builtin", "created_at"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance
        if instance is not None and instance.is_builtin and "code" in attrs and attrs["code"] != instance.code:
            raise serializers.ValidationError({"code": [_("The code of a built-in role cannot change.")]})
        permissions = attrs.get("permissions", instance.permissions if instance else {})
        field_permissions = attrs.get("field_permissions", instance.field_permissions if instance else {})
        try:
            services.validate_role_permissions(permissions, field_permissions)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict)
        return attrs

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_role(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_role(self.actor, instance)


class ModuleGrantSerializer(serializers.Serializer):
    label = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    scope = serializers.ChoiceField(choices=DataScope.choices)
    fields = serializers.DictField(child=serializers.ChoiceField(choices=FieldAccess.choices))


class MeSerializer(UserSerializer):
    """The signed-in user and their effective permissions (union of their roles)."""

    is_admin = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = [f for f in UserSerializer.Meta.fields if f != "password"] + ["is_admin", "permissions"]
        read_only_fields = fields

    def get_is_admin(self, obj) -> bool:
        return get_permissions(obj).is_admin

    @extend_schema_field(serializers.DictField(child=ModuleGrantSerializer()))
    def get_permissions(self, obj):
        perms = get_permissions(obj)
        result = {}
        for module in registry.modules.values():
            actions = [a for a in module.actions if perms.has(module.key, a)]
            result[module.key] = {
                "label": str(module.label),
                "actions": actions,
                "scope": perms.scope(module.key),
                "fields": perms.field_map(module.key),
            }
        return result
