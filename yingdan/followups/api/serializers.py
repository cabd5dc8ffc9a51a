"""Follow-ups, their comments and attachments over the API; writes go through followups.services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.reverse import reverse

from yingdan.core.api.exceptions import django_errors_to_api
from yingdan.core.api.fields import NestedRelatedField
from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.models import Attachment, Lookup

from .. import services
from ..models import FollowUp, FollowUpComment


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "name", "size", "mime_type", "uploaded_by", "created_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return reverse("core:attachment_download", args=[obj.pk], request=self.context.get("request"))


class FollowUpCommentSerializer(serializers.ModelSerializer):
    author = NestedRelatedField(read_only=True, brief_fields=("username", "name"), url_name="user")
    mentions = NestedRelatedField(read_only=True, many=True, brief_fields=("username", "name"), url_name="user")

    class Meta:
        model = FollowUpComment
        fields = ["id", "followup", "author", "body", "mentions", "created_at"]
        read_only_fields = ["id", "followup", "author", "mentions", "created_at"]


class FollowUpSerializer(BaseModelSerializer):
    type = NestedRelatedField(
        queryset=Lookup.objects.filter(kind="followup_type", is_active=True), brief_fields=("name", "code"),
        help_text="A followup_type list entry id (see /api/v1/lookups/?kind=followup_type).",
    )
    attachments = serializers.SerializerMethodField(help_text="Files attached to this follow-up.")

    class Meta:
        model = FollowUp
        fields = [
            "id", "url", "display", "customer", "lead", "contacts", "type", "occurred_at", "content", "next_at",
            "next_plan", "checkin_address", "checkin_lat", "checkin_lng", "owner", "department", "attachments",
            "created_by", "created_at", "updated_at",
        ]
        read_only_fields = ["owner", "department", "created_by", "created_at", "updated_at"]

    def get_attachments(self, obj) -> list[dict]:
        cache = self.context.get("_attachments")
        items = cache.get(obj.pk, []) if cache is not None else list(
            Attachment.objects.filter(target_type__model="followup", target_type__app_label="followups", target_id=obj.pk)
        )
        return AttachmentSerializer(items, many=True, context=self.context).data

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_followup(self.actor, instance, contacts=m2m.get("contacts"))

    def delete_instance(self, instance):
        services.delete_followup(self.actor, instance)


class CommentCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=2000)


class UploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), allow_empty=False)


def raise_api(exc: DjangoValidationError):
    raise serializers.ValidationError(django_errors_to_api(exc))
