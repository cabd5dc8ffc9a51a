"""Leads (线索): a person and company not yet qualified as a customer."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import CustomFieldsMixin, Lookup, OwnedModel
from yingdan.core.text import company_key
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

    def save(self, *args, **kwargs):
        self.refresh_search_keys()
        self.dedupe_name = company_key(self.company)[:255] if self.company else ""
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("leads:lead_detail", args=[self.pk])
