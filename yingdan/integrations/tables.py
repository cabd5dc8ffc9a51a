from django.utils.translation import gettext_lazy as _

from yingdan.core.tables import Column, Table

from .models import Robot, Webhook, WebhookDelivery


class RobotTable(Table):
    url = Column(_("URL"), render=lambda r: r.url_masked, sortable=False)

    class Meta:
        model = Robot
        fields = ["name", "vendor", "url", "is_active", "last_error", "last_sent_at"]
        default_columns = fields
        linkify = ["name"]


class WebhookTable(Table):
    events = Column(_("Events"), render=lambda r: ", ".join(r.events or []), sortable=False)

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "is_active", "consecutive_failures", "disabled_reason", "last_delivery_at"]
        default_columns = fields
        linkify = ["name"]


class DeliveryTable(Table):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "event", "status", "attempt", "http_status", "response_ms", "created_at", "next_retry_at"]
        default_columns = fields
