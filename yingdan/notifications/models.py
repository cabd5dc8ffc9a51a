"""In-app notifications (the bell). Channels beyond in-app (e-mail, robots, webhooks) come with issue 5."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    target_id = models.BigIntegerField(null=True, blank=True)
    # Idempotency: a job that re-runs after a crash passes the same key and creates nothing twice.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # e-mail channel: "" (not sent by e-mail), pending (due at email_due_at: after quiet hours), sent, failed
    email_state = models.CharField(max_length=10, blank=True, default="")
    email_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-id"]
        indexes = [
            # the bell's unread count and the unread list
            models.Index(fields=["recipient", "read_at", "-id"], name="notif_recipient_idx"),
            # the dropdown's latest ten and the full list, newest first, read or not
            models.Index(fields=["recipient", "-id"], name="notif_recipient_latest_idx"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self.url or ""


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("E-mail")


DEFAULT_CHANNELS = [Channel.IN_APP.value]


class NotificationPreference(models.Model):
    """Per user: the channels of each kind (missing kind = in-app only) and quiet hours, during which
    external channels wait until the quiet period ends (in-app is always immediate)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference")
    channels = models.JSONField(_("channels per kind"), default=dict, blank=True)
    quiet_start = models.TimeField(_("quiet hours from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet hours until"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self):
        return str(self.user)

    def channels_for(self, kind: str) -> list[str]:
        return list(self.channels.get(kind, DEFAULT_CHANNELS))
