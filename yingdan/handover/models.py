"""Handover (离职交接) records: who left, how their records were handed over, and the counts per kind."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import BusinessModel
from yingdan.org.models import User

from .choices import HandoverMode


class HandoverRecord(BusinessModel):
    """One completed handover. `counts` is the summary the service stored:

        {"<kind>": {"label": "...", "total": 12, "pool": 0, "successors": {"<user id>": 6, ...}}, ...}

    `created_by` is the administrator who ran it. Visible to whoever may view the leaving user."""

    permission_module = "users"

    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("leaving user"), on_delete=models.PROTECT, related_name="handovers_from"
    )
    mode = models.CharField(_("mode"), max_length=10, choices=HandoverMode.choices)
    successors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("successors"), blank=True, related_name="handovers_received"
    )
    counts = models.JSONField(_("records handed over"), default=dict, blank=True)
    total = models.PositiveIntegerField(_("total records"), default=0)
    reason = models.TextField(_("reason"), blank=True, validators=[MaxLengthValidator(1000)])

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")
        ordering = ["-id"]
        indexes = [models.Index(fields=["from_user", "-id"], name="handover_from_idx")]

    def __str__(self):
        return gettext("Handover of %(user)s") % {"user": self.from_user}

    def get_absolute_url(self):
        return reverse("handover:handover_detail", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        # A handover is visible to whoever may view the leaving user.
        return User.scope_q(user, scope, prefix=f"{prefix}from_user__")
