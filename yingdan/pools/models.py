"""Public pools (公海池) of customers or leads, and the fields a pooled record carries (PooledMixin)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import BusinessModel


class PoolObject(models.TextChoices):
    CUSTOMER = "customer", _("Customers")
    LEAD = "lead", _("Leads")


class PoolKind(models.TextChoices):
    OPEN = "open", _("Members see and claim")
    ASSIGNED = "assigned", _("Only admins assign")


class Pool(BusinessModel):
    permission_module = "pools"

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("holds"), max_length=20, choices=PoolObject.choices, default=PoolObject.CUSTOMER)
    kind = models.CharField(_("kind"), max_length=20, choices=PoolKind.choices, default=PoolKind.OPEN)
    description = models.CharField(_("description"), max_length=255, blank=True)
    is_default = models.BooleanField(
        _("default pool"), default=False,
        help_text=_("Records whose department no pool covers are recycled into the default pool."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    departments = models.ManyToManyField(
        "org.Department", verbose_name=_("departments in scope"), blank=True, related_name="pools",
        help_text=_("Records of these departments (and their sub-departments) are recycled into this pool."),
    )
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("pool admins"), blank=True, related_name="administered_pools")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="member_pools",
        help_text=_("Users who may see and claim. Empty: everyone in the departments in scope."),
    )
    # Rules
    hold_cap = models.PositiveIntegerField(_("holding cap per rep"), null=True, blank=True, help_text=_("Empty: no cap."))
    count_won = models.BooleanField(_("won customers count toward the cap"), default=False)
    daily_claim_cap = models.PositiveIntegerField(_("daily claim cap per rep"), null=True, blank=True)
    cooldown_days = models.PositiveIntegerField(_("re-claim cooldown (days)"), default=0)
    recycle_enabled = models.BooleanField(_("automatic recycling"), default=False)
    # {"default": {"no_followup_days": 30, "no_won_days": 90}, "<level lookup id>": {...}}
    recycle_rules = models.JSONField(_("recycling rules"), default=dict, blank=True)
    warn_days = models.PositiveIntegerField(_("warn owner days before"), default=3)
    hidden_fields = models.JSONField(_("fields hidden while in the pool"), default=list, blank=True)
    clear_department = models.BooleanField(
        _("clear the department on return"), default=False,
        help_text=_("Records returned to this pool lose their department (so department managers no longer see them)."),
    )

    class Meta:
        verbose_name = _("public pool")
        verbose_name_plural = _("public pools")
        ordering = ["object_type", "name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("pools:pool_detail", args=[self.pk])


class PooledMixin(models.Model):
    """Fields of a record that can sit in a pool (customers, leads) and be recycled by the pool rules."""

    pool = models.ForeignKey(
        Pool, verbose_name=_("public pool"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    pool_entered_at = models.DateTimeField(_("entered the pool at"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("previous owner"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    owner_since = models.DateTimeField(_("owned since"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True, db_index=True)
    next_followup_at = models.DateField(_("next follow-up"), null=True, blank=True)
    recycle_warned_at = models.DateTimeField(_("recycling warning sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class PoolSettings(models.Model):
    """Company-wide pool rules (one row). The stricter of this cap and a pool's own cap applies."""

    customer_hold_cap = models.PositiveIntegerField(
        _("customers a rep may hold"), null=True, blank=True, help_text=_("Company-wide. Empty: no cap."),
    )
    lead_hold_cap = models.PositiveIntegerField(
        _("leads a rep may hold"), null=True, blank=True, help_text=_("Company-wide. Empty: no cap."),
    )
    count_won = models.BooleanField(
        _("won customers count toward the company-wide cap"), default=False,
        help_text=_("Customers whose status is “won” count toward the company-wide cap."),
    )

    class Meta:
        verbose_name = _("pool settings")
        verbose_name_plural = _("pool settings")

    def __str__(self):
        return str(_("Pool settings"))

    @classmethod
    def get(cls) -> PoolSettings:
        obj = cls.objects.filter(pk=1).first()
        if obj is None:
            obj, _created = cls.objects.get_or_create(pk=1)
        return obj


class PoolEventKind(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    RELEASE = "release", _("Released to the pool")
    ASSIGN = "assign", _("Assigned from the pool")
    TRANSFER = "transfer", _("Transferred")
    RECYCLE = "recycle", _("Recycled to the pool")


class PoolEvent(models.Model):
    """Append-only log of ownership moves into and out of pools (timeline, daily claim cap, audits)."""

    # content_type and actor lead the composite indexes below, which serve their lookups: no single-column
    # indexes of their own (every claim and every recycled record writes an event).
    content_type = models.ForeignKey("contenttypes.ContentType", verbose_name=_("object type"), on_delete=models.CASCADE, related_name="+",
                                     db_index=False)
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    pool = models.ForeignKey(Pool, verbose_name=_("public pool"), on_delete=models.SET_NULL, null=True, blank=True, related_name="events")
    kind = models.CharField(_("kind"), max_length=20, choices=PoolEventKind.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_index=False)
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("from"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    to_owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("to"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    at = models.DateTimeField(_("at"), db_index=True)

    class Meta:
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="poolevent_object_idx"),
            models.Index(fields=["actor", "kind", "pool", "at"], name="poolevent_actor_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.object_repr}"
