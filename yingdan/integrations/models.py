"""Outbound channels: group robots (DingTalk, Feishu, WeCom) and generic webhooks, with their delivery logs.

URLs and secrets are credentials: they are stored encrypted (`crypto.py`), kept out of the change log and never
shown back in full (`masked()`); editing a robot or webhook without re-entering the secret keeps it."""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models.base import ChangeLoggedModel, ScopedQuerySet

from .crypto import EncryptedCharField, EncryptedURLField, UnreadableSecret


def masked(value: str) -> str:
    """`SEC…a1b2`-style: the first three and last four characters, never the whole secret."""
    if isinstance(value, UnreadableSecret):
        return str(_("unreadable (SECRET_KEY changed?) — enter it again"))
    if not value:
        return ""
    if len(value) <= 8:
        return "…" + value[-2:]
    return f"{value[:3]}…{value[-4:]}"


class Vendor(models.TextChoices):
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu")
    WECOM = "wecom", _("WeCom")


class Robot(ChangeLoggedModel):
    permission_module = "settings"
    changelog_exclude = ("webhook_url", "secret", "last_error", "last_error_code", "last_sent_at")

    vendor = models.CharField(_("vendor"), max_length=10, choices=Vendor.choices)
    name = models.CharField(_("name"), max_length=100)
    webhook_url = EncryptedURLField(_("webhook URL"), max_length=500, help_text=_("The robot's webhook address from the group settings."))
    secret = EncryptedCharField(_("signing secret"), max_length=200, blank=True,
                              help_text=_("DingTalk/Feishu signing secret (加签). WeCom has no secret: its key is in the URL."))
    keyword = models.CharField(_("keyword"), max_length=50, blank=True,
                               help_text=_("If the robot has a keyword check, every message starts with this keyword."))
    kinds = models.JSONField(_("notification kinds"), default=list, blank=True,
                             help_text=_("Notification kinds this robot posts to its group."))
    is_active = models.BooleanField(_("active"), default=True)
    last_error_code = models.CharField(_("last error code"), max_length=20, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("robot")
        verbose_name_plural = _("robots")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:robot_detail", args=[self.pk])

    @property
    def secret_masked(self) -> str:
        return masked(self.secret)

    @property
    def url_masked(self) -> str:
        """Host and path without the token/key."""
        if isinstance(self.webhook_url, UnreadableSecret):
            return masked(self.webhook_url)
        return self.webhook_url.split("?")[0][:60] + ("?…" if "?" in self.webhook_url else "")


class RobotMessage(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")
        CONFIG_ERROR = "config_error", _("Configuration error")

    robot = models.ForeignKey(Robot, verbose_name=_("robot"), on_delete=models.CASCADE, related_name="messages")
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"), blank=True)
    mentions = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=20, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("robot message")
        verbose_name_plural = _("robot messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["robot", "status", "id"], name="robotmsg_queue_idx")]

    def __str__(self):
        return self.title


class Webhook(ChangeLoggedModel):
    permission_module = "settings"
    changelog_exclude = ("secret", "consecutive_failures", "last_delivery_at")

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list,
                              help_text=_("Event names or patterns, e.g. customers.customer.create, customers.*, *"))
    secret = EncryptedCharField(_("secret"), max_length=200, blank=True,
                              help_text=_("Used to sign each body (X-Yingdan-Signature: sha256=HMAC-SHA256(secret, body))."))
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    disabled_reason = models.CharField(_("disabled reason"), max_length=300, blank=True)
    last_delivery_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("integrations:webhook_detail", args=[self.pk])

    @property
    def secret_masked(self) -> str:
        return masked(self.secret)


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCESS = "success", _("Delivered")
        RETRYING = "retrying", _("Retrying")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, verbose_name=_("webhook"), on_delete=models.CASCADE, related_name="deliveries")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.CharField(_("event"), max_length=100)
    event_id = models.CharField(max_length=64, help_text="Identity of the event (one delivery per event and webhook).")
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveSmallIntegerField(_("attempt"), default=0)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    response_ms = models.PositiveIntegerField(_("response time (ms)"), null=True, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    next_retry_at = models.DateTimeField(_("next retry"), null=True, blank=True)
    redelivery_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["webhook", "-id"], name="whdelivery_webhook_idx"),
            models.Index(fields=["status", "next_retry_at"], name="whdelivery_retry_idx"),
        ]
        constraints = [
            # exactly once per (event, webhook): a re-run of the dispatch creates nothing twice
            models.UniqueConstraint(fields=["webhook", "event_id"], condition=models.Q(redelivery_of__isnull=True),
                                    name="whdelivery_once"),
        ]

    def __str__(self):
        return f"{self.event} → {self.webhook_id} #{self.pk}"
