"""Follow-ups (跟进记录), managers' comments on them (点评) and file attachments."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.choices import Action, DataScope
from yingdan.core.models import Lookup, OwnedModel
from yingdan.core.models.base import department_ids_for
from yingdan.core.permissions import get_permissions
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
            # The list's default order (newest first), walked for department scopes and stopped after a page.
            models.Index(fields=["-occurred_at", "-id"], name="fu_occurred_idx"),
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
        lead the same scope covers (owner, collaborator or department of the parent record).

        With the 'own' scope the parents are few: they are matched by id lists (subqueries), so each branch
        is an index of its own (owner, customer, lead) and a list or count unions them. Department scopes
        cover a large share of the parents: they are matched through the joined parent row instead (a
        primary-key lookup per follow-up), walked in time order."""
        q = models.Q(**{f"{prefix}owner_id": user.pk})
        if scope == DataScope.OWN:
            customers = Customer.objects.filter(Customer.scope_q(user, scope)).values("id")
            leads = Lead.objects.filter(Lead.scope_q(user, scope)).values("id")
            return q | models.Q(**{f"{prefix}customer_id__in": customers}) | models.Q(**{f"{prefix}lead_id__in": leads})
        depts = department_ids_for(user, scope)
        if depts:
            q |= models.Q(**{f"{prefix}department_id__in": depts})
        q |= Customer.scope_q(user, scope, prefix=f"{prefix}customer__")
        q |= Lead.scope_q(user, scope, prefix=f"{prefix}lead__")
        return q

    @classmethod
    def of_parent(cls, user, *, customer_id=None, lead_ids=None, parent=None):
        """Follow-ups of one customer (or of some leads) the user may see, cheaply: when the parent itself is
        inside the user's follow-up scope, all its follow-ups are (no per-row scope filter); otherwise only
        the user's own or their departments'. `parent`, the loaded customer, answers the scope question
        from its owner and department when they decide it (no query)."""
        perms = get_permissions(user)
        if not perms.has(cls.permission_module, Action.VIEW):
            return cls.objects.none()
        scope = perms.scope(cls.permission_module)
        if customer_id is not None:
            qs, parent_model, parent_ids = cls.objects.filter(customer_id=customer_id), Customer, [customer_id]
        else:
            qs, parent_model, parent_ids = cls.objects.filter(lead_id__in=list(lead_ids or [])), Lead, list(lead_ids or [])
        if scope == DataScope.ALL or not parent_ids:
            return qs
        if parent is not None and customer_id is not None and parent.pk == customer_id and (
            parent.owner_id == user.pk or (scope != DataScope.OWN and parent.department_id in department_ids_for(user, scope))
        ):
            return qs  # the owner or department branch of Customer.scope_q covers it
        covered = set(parent_model.objects.filter(pk__in=parent_ids).filter(parent_model.scope_q(user, scope)).values_list("pk", flat=True))
        if covered == set(parent_ids):
            return qs
        own = models.Q(owner_id=user.pk)
        depts = department_ids_for(user, scope) if scope != DataScope.OWN else []
        if depts:
            own |= models.Q(department_id__in=depts)
        field = "customer_id" if customer_id is not None else "lead_id"
        return qs.filter(own | models.Q(**{f"{field}__in": list(covered)}))

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
