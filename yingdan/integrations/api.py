"""/api/v1/robots/ (+ test), /api/v1/webhooks/ (+ deliveries), /api/v1/webhook-deliveries/ (+ redeliver).
Secrets are write-only: responses carry them masked."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yingdan.core.api.serializers import BaseModelSerializer
from yingdan.core.api.viewsets import BaseModelViewSet, ScopedQuerysetMixin
from yingdan.core.choices import Action

from . import services
from .models import Robot, Vendor, Webhook, WebhookDelivery


class RobotSerializer(BaseModelSerializer):
    vendor = serializers.ChoiceField(choices=Vendor.choices)
    webhook_url = serializers.URLField(write_only=True, required=False, max_length=500,
                                       help_text="Write-only; omit on update to keep the stored one.")
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                   help_text="Write-only; omit or leave empty on update to keep the stored one.")
    url_masked = serializers.CharField(read_only=True)
    secret_masked = serializers.CharField(read_only=True)
    kinds = serializers.ListField(child=serializers.CharField(), required=False)

    class Meta:
        model = Robot
        fields = ["id", "url", "display", "vendor", "name", "webhook_url", "url_masked", "secret", "secret_masked",
                  "keyword", "kinds", "is_active", "last_error_code", "last_error", "last_sent_at", "created_at"]
        read_only_fields = ["last_error_code", "last_error", "last_sent_at", "created_at"]

    def validate(self, attrs):
        if self.instance is None and not attrs.get("webhook_url"):
            raise serializers.ValidationError({"webhook_url": ["This field is required."]})
        return attrs

    def save_instance(self, instance, *, m2m, custom_fields):
        return services.save_robot(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_robot(self.actor, instance)


class RobotTestResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()
    retry = serializers.BooleanField()
    config_error = serializers.BooleanField()


class RobotViewSet(BaseModelViewSet):
    """Group robots. `POST /robots/{id}/test/` sends a test message and returns the vendor's answer."""

    queryset = Robot.objects.all()
    serializer_class = RobotSerializer
    permission_module = "settings"
    action_permissions = {"test": Action.EDIT}
    filterset_fields = ["vendor", "is_active"]

    @extend_schema(request=None, responses={200: RobotTestResultSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        robot = self.get_object()
        result = services.test_send(request.user, robot)
        return Response(result.as_dict(), status=status.HTTP_200_OK)


class WebhookSerializer(BaseModelSerializer):
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200,
                                   help_text="Write-only. Omit on creation to have one generated (returned once as `new_secret`).")
    secret_masked = serializers.CharField(read_only=True)
    events = serializers.ListField(child=serializers.CharField(max_length=100), allow_empty=False)
    url = serializers.URLField(max_length=500, help_text="The receiver's endpoint (not the API self link).")

    class Meta:
        model = Webhook
        fields = ["id", "display", "name", "url", "events", "secret", "secret_masked", "is_active",
                  "consecutive_failures", "disabled_reason", "last_delivery_at", "created_at"]
        read_only_fields = ["consecutive_failures", "disabled_reason", "last_delivery_at", "created_at"]

    def save_instance(self, instance, *, m2m, custom_fields):
        self._generated = instance.pk is None and not instance.secret
        return services.save_webhook(self.actor, instance)

    def delete_instance(self, instance):
        services.delete_webhook(self.actor, instance)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if getattr(self, "_generated", False):
            data["new_secret"] = instance.secret  # shown once, on creation
        return data


class DeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(source="uuid", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = ["id", "delivery_id", "webhook", "event", "event_id", "payload", "status", "attempt", "http_status",
                  "response_ms", "response_excerpt", "error", "next_retry_at", "redelivery_of", "created_at", "delivered_at"]
        read_only_fields = fields


class WebhookViewSet(BaseModelViewSet):
    """Outbound webhooks. `GET /webhooks/{id}/deliveries/` is the delivery log; `POST /webhooks/{id}/ping/` sends a
    `ping` event now and returns its delivery (status, HTTP code, time, error)."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    permission_module = "settings"
    action_permissions = {"ping": Action.EDIT}
    filterset_fields = ["is_active"]

    @extend_schema(request=None, responses={200: DeliverySerializer}, summary="Send a ping event now (the settings page's ping)")
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        hook = self.get_object()
        delivery = services.send_test_event(request.user, hook)
        if delivery is None:  # leased by the sweep meanwhile: report the row as it stands
            delivery = hook.deliveries.filter(event="ping").order_by("-id").first()
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_200_OK)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        hook = self.get_object()
        qs = hook.deliveries.order_by("-id")
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryViewSet(ScopedQuerysetMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One delivery; `POST /webhook-deliveries/{id}/redeliver/` sends it again (a new delivery id)."""

    queryset = WebhookDelivery.objects.all()
    serializer_class = DeliverySerializer
    permission_module = "settings"
    action_permissions = {"redeliver": Action.EDIT}

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        new = services.redeliver(request.user, self.get_object())
        return Response(DeliverySerializer(new).data, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register("robots", RobotViewSet, basename="robot")
    router.register("webhooks", WebhookViewSet, basename="webhook")
    router.register("webhook-deliveries", DeliveryViewSet, basename="webhookdelivery")
