"""Leads (线索): a person and company not yet qualified as a customer."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import ChangeLoggedModel, CustomFieldsMixin, Lookup, OwnedModel, ScopedQuerySet
from yingdan.core.text import company_key, normalize, pinyin_keys
from yingdan.core.validators import (
    normalize_phone,
    validate_mobile,
    validate_no_control_chars,
    validate_phone,
)
from yingdan.customers.models import SearchKeysMixin
from yingdan.pools.models import PooledMixin


class Lead(SearchKeysMixin, PooledMixin, CustomFieldsMixin, OwnedModel):
    permission_module = "leads"
    changelog_exclude = ("search_name", "search_pinyin", "search_initials", "dedupe_name", "recycle_warned_at")

    name = models.CharField(_("full name"), max_length=100, validators=[validate_no_control_chars])
    company = models.CharField(_("company"), max_length=200, blank=True, validators=[validate_no_control_chars])
    title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True, validators=[validate_mobile])
    phone = models.CharField(_("phone"), max_length=30, blank=True, db_index=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), max_length=254, blank=True, db_index=True)
    source = models.ForeignKey(
        Lookup, verbose_name=_("lead source"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "lead_source", "is_active": True},
    )
    status = models.ForeignKey(
        Lookup, verbose_name=_("status"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "lead_status", "is_active": True},
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    remarks = models.TextField(_("remarks"), blank=True, validators=[MaxLengthValidator(5000)])
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collaborators"), blank=True, related_name="collaborating_leads"
    )
    # Company name normalised for duplicate checks (same key as customers).
    dedupe_name = models.CharField(_("duplicate-check key"), max_length=255, editable=False, default="", db_index=True)
    converted_customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("converted to customer"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="leads",
    )
    converted_contact = models.ForeignKey(
        "customers.Contact", verbose_name=_("converted to contact"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="lead_owner_idx"),
            models.Index(fields=["id", "department", "owner"], name="lead_scope_idx"),
            models.Index(fields=["pool", "-id"], name="lead_pool_idx"),
            models.Index(fields=["owner", "next_followup_at"], name="lead_owner_next_idx"),
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            models.Index(fields=["department", "-id"], name="lead_dept_idx"),
            models.Index(fields=["source", "-id"], name="lead_source_idx"),
        ]

    def __str__(self):
        return f"{self.name}（{self.company}）" if self.company else self.name

    def clean(self):
        super().clean()
        self.name = (self.name or "").strip()
        self.company = (self.company or "").strip()
        if self.mobile:
            self.mobile = normalize_phone(self.mobile)
        if self.phone:
            self.phone = normalize_phone(self.phone)
        if self.email:
            self.email = self.email.strip().lower()

    def refresh_search_keys(self) -> None:
        """The indexed search name covers the person and the company ("王伟 华信科技"): the space never
        occurs in a normalised query, so a fragment matches within one of the two, never across them.
        Pinyin keys are the person's name."""
        name, company = normalize(self.name), normalize(self.company)
        self.search_name = (f"{name} {company}" if company else name)[:255]
        self.search_pinyin, self.search_initials = pinyin_keys(self.name)

    @property
    def is_converted(self) -> bool:
        return self.converted_at is not None

    def save(self, *args, **kwargs):
        self.refresh_search_keys()
        self.dedupe_name = company_key(self.company)[:255] if self.company else ""
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("leads:lead_detail", args=[self.pk])


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOAD = "least_load", _("Fewest open records")


class LoadBasis(models.TextChoices):
    LEADS = "leads", _("Open leads")
    CUSTOMERS = "customers", _("Customers")
    BOTH = "both", _("Open leads and customers")


class AssignmentRule(ChangeLoggedModel):
    """How new records are shared out inside one team (fair assignment, 自动分配)."""

    permission_module = "settings"
    changelog_exclude = ("last_assigned",)

    department = models.OneToOneField(
        "org.Department", verbose_name=_("team"), on_delete=models.CASCADE, related_name="assignment_rule",
    )
    method = models.CharField(_("method"), max_length=20, choices=AssignmentMethod.choices, default=AssignmentMethod.ROUND_ROBIN)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("eligible members"), blank=True, related_name="+",
        help_text=_("Empty: every active user of the team."),
    )
    load_basis = models.CharField(
        _("what counts as load"), max_length=20, choices=LoadBasis.choices, default=LoadBasis.LEADS,
        help_text=_("Used by the fewest-open-records method."),
    )
    # Round-robin pointer: the member who received the last record.
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("last assigned to"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["department__path", "id"]

    def __str__(self):
        return str(self.department)

    def get_absolute_url(self):
        return reverse("leads:assignment_edit", args=[self.pk])

    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return models.Q()
