from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import ChangeAction, ChangeSource
from .base import ScopedQuerySet


class ObjectChangeQuerySet(ScopedQuerySet):
    def update(self, **kwargs):
        raise TypeError("The change log is append-only.")

    def delete(self):
        raise TypeError("The change log is append-only.")


class ObjectChange(models.Model):
    """One create/update/delete of a business object: who, when, through what, and field-level diffs.

    Append-only: saving an existing row or deleting raises.
    """

    time = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", db_constraint=False, db_index=False,  # (core_change_user_idx starts with it)
    )
    user_name = models.CharField(_("user name"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=ChangeSource.choices, default=ChangeSource.SYSTEM)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    action = models.CharField(_("action"), max_length=10, choices=ChangeAction.choices)
    content_type = models.ForeignKey(ContentType, verbose_name=_("object type"), on_delete=models.PROTECT, related_name="+",
                                     db_index=False)  # (core_change_object_idx starts with it)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    objects = ObjectChangeQuerySet.as_manager()
    permission_module = "settings"

    class Meta:
        verbose_name = _("change record")
        verbose_name_plural = _("change log")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-time"], name="core_change_object_idx"),
            models.Index(fields=["user", "-time"], name="core_change_user_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("core:objectchange_detail", args=[self.pk])

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The change log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The change log is append-only.")
