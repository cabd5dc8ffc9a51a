"""Follow-ups (跟进记录), managers' comments on them (点评) and file attachments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import DataScope
from yingdan.core.models import Lookup, OwnedModel
from yingdan.core.models.base import department_ids_for
from yingdan.customers.models import Customer
from yingdan.leads.models import Lead


class FollowUp(OwnedModel):
    """`owner` is the rep who followed up (the author); `department` theirs at the time."""

    permission_module = "followups"

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, null=True, blank=True,
        related_name="followups",
    )
    lead = models.ForeignKey(
        "leads.Lead", verbose_name=_("lead"), on_delete=models.CASCADE, null=True, blank=True, related_name="followups"
    )
    contacts = models.ManyToManyField("customers.Contact", verbose_name=_("contacts involved"), blank=True, related_name="followups")
    type = models.ForeignKey(
        Lookup, verbose_name=_("type"), on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": "followup_type", "is_active": True},
    )
    occurred_at = models.DateTimeField(_("time"))
    content = models.TextField(_("content"), validators=[MaxLengthValidator(10000)])
    next_at = models.DateField(_("next follow-up date"), null=True, blank=True)
    next_plan = models.CharField(_("next step"), max_length=500, blank=True)
    # Visit check-in (签到)
    checkin_address = models.CharField(_("check-in address"), max_length=255, blank=True)
    checkin_lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_lng = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="fu_customer_idx"),
            models.Index(fields=["lead", "-occurred_at"], name="fu_lead_idx"),
            models.Index(fields=["owner", "-occurred_at"], name="fu_owner_idx"),
            models.Index(fields=["department", "-occurred_at"], name="fu_dept_idx"),
        ]

    def __str__(self):
        return f"{self.type} · {self.occurred_at:%Y-%m-%d %H:%M}" if self.occurred_at else str(self.type)

    @property
    def parent(self):
        """The customer (or, without one, the lead) this follow-up is about."""
        return self.customer if self.customer_id else self.lead

    @classmethod
    def apply_scope(cls, queryset, user, scope: str):
        return queryset.filter(cls.scope_q(user, scope))

    @classmethod
    def scope_q(cls, user, scope: str, prefix: str = "") -> models.Q:
        """Own follow-ups, those written in the departments of the scope, and every follow-up of a customer or
        lead the same scope covers (owner, collaborator or department of the parent record). Each branch is
        an indexed column or a join on the parent's primary key."""
        q = models.Q(**{f"{prefix}owner_id": user.pk})
        depts = department_ids_for(user, scope) if scope != DataScope.OWN else []
        if depts:
            q |= models.Q(**{f"{prefix}department_id__in": depts})
        q |= Customer.scope_q(user, scope, prefix=f"{prefix}customer__")
        q |= Lead.scope_q(user, scope, prefix=f"{prefix}lead__")
        return q

    def get_absolute_url(self):
        return reverse("followups:followup_detail", args=[self.pk])


class FollowUpComment(models.Model):
    """A manager's comment (点评) on a follow-up; @mentioned users are notified."""

    followup = models.ForeignKey(FollowUp, verbose_name=_("follow-up"), on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"), validators=[MaxLengthValidator(2000)])
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("mentioned"), blank=True, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["id"]

    def __str__(self):
        return self.body[:50]
