"""Handover over the API: the request body of POST /api/v1/users/{id}/handover/, its dry-run preview, and
the stored records (GET /api/v1/handovers/)."""

from __future__ import annotations

from rest_framework import serializers

from yingdan.core.api.serializers import BaseModelSerializer

from ..choices import HandoverMode
from ..models import HandoverRecord


class HandoverRequestSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=HandoverMode.choices,
                                   help_text="one: all to one successor; split: evenly among several; pool: back to the public pool.")
    successors = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list,
                                       max_length=100, help_text="User ids: exactly one for `one`, two or more for `split`, none for `pool`.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)
    dry_run = serializers.BooleanField(required=False, default=False,
                                       help_text="Only answer the preview (counts per kind and per successor); change nothing.")


class KindSummarySerializer(serializers.Serializer):
    label = serializers.CharField()
    total = serializers.IntegerField()
    pool = serializers.IntegerField(help_text="Records returned to the pool.")
    successors = serializers.DictField(child=serializers.IntegerField(), help_text="user id -> records handed to them")
    details = serializers.DictField(child=serializers.IntegerField(), required=False,
                                    help_text="What travels with the records (e.g. contacts, follow-up plans).")


class HandoverPreviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    user = serializers.IntegerField(help_text="The leaving user.")
    mode = serializers.ChoiceField(choices=HandoverMode.choices)
    successors = serializers.ListField(child=serializers.IntegerField())
    total = serializers.IntegerField()
    kinds = serializers.DictField(child=KindSummarySerializer(), help_text="Per kind of record (customers, leads, ...).")


class HandoverRecordSerializer(BaseModelSerializer):
    counts = serializers.DictField(child=KindSummarySerializer(), read_only=True)

    class Meta:
        model = HandoverRecord
        fields = ["id", "url", "display", "from_user", "mode", "successors", "counts", "total", "reason",
                  "created_by", "created_at"]
        read_only_fields = fields
