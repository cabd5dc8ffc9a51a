"""Customers (客户, companies) and their contacts (联系人)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from yingdan.core.models import BusinessModel, CustomFieldsMixin, Lookup, OwnedModel, Tag
from yingdan.core.text import company_key, normalize, pinyin_keys
from yingdan.core.validators import (
    normalize_credit_code,
    normalize_phone,
    validate_credit_code,
    validate_mobile,
    validate_no_control_chars,
    validate_phone,
)
from yingdan.pools.models import PooledMixin


class SearchKeysMixin(models.Model):
    """Indexed search columns maintained on save: normalised name, full pinyin, pinyin initials."""

    search_name = models.CharField(_("normalised name"), max_length=255, editable=False, default="", db_index=True)
    search_pinyin = models.CharField(_("pinyin"), max_length=255, editable=False, default="", db_index=True)
    search_initials = models.CharField(_("pinyin initials"), max_length=100, editable=False, default="", db_index=True)

    changelog_exclude = ("search_name", "search_pinyin", "search_initials")

    class Meta:
        abstract = True

    def refresh_search_keys(self) -> None:
        self.search_name = normalize(self.name)[:255]
        self.search_pinyin, self.search_initials = pinyin_keys(self.name)


class Customer(SearchKeysMixin, PooledMixin, CustomFieldsMixin, OwnedModel):
    permission_module = "customers"
    changelog_exclude = ("search_name", "search_pinyin", "search_initials", "dedupe_name", "recycle_warned_at")

    name = models.CharField(_("name"), max_length=200, validators=[validate_no_control_chars])
    short_name = models.CharField(_("short name"), max_length=100, blank=True, validators=[validate_no_control_chars])
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, null=True, blank=True, unique=True,
        validators=[validate_credit_code],
        error_messages={"unique": _("Another customer already has this credit code.")},
    )
    industry = models.ForeignKey(
        Lookup, verbose_name=_("industry"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "industry", "is_active": True},
    )
    source = models.ForeignKey(
        Lookup, verbose_name=_("customer source"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "customer_source", "is_active": True},
    )
    # Level and status without single-column indexes: cust_level_idx / cust_status_idx (column, -id) begin
    # with the same column and also serve the list's newest-first page.
    level = models.ForeignKey(
        Lookup, verbose_name=_("level"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "customer_level", "is_active": True}, db_index=False,
    )
    status = models.ForeignKey(
        Lookup, verbose_name=_("status"), on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"kind": "customer_status", "is_active": True}, db_index=False,
    )
    province = models.CharField(_("province"), max_length=30, blank=True)
    city = models.CharField(_("city"), max_length=30, blank=True)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    website = models.URLField(_("website"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone], db_index=True)
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("collaborators"), blank=True, related_name="collaborating_customers"
    )
    remarks = models.TextField(_("remarks"), blank=True, validators=[MaxLengthValidator(5000)])
    # Company name normalised for duplicate checks (width, case, brackets, region words, legal-form suffixes).
    dedupe_name = models.CharField(_("duplicate-check key"), max_length=255, editable=False, default="", db_index=True)
    last_won_at = models.DateTimeField(_("last won deal"), null=True, blank=True)

    # Owner and pool as inherited, without their single-column foreign-key indexes: the partial composite
    # indexes cust_owner_idx / cust_pool_idx below answer the same lookups. Every index costs each write of a
    # customer one more entry; a claim or a recycling night (100,000+ rows) moves records between "owned" and
    # "pooled", and the partial indexes only take the rows that have an owner / a pool.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", db_index=False,
    )
    # The department likewise: cust_dept_idx (department, -id) and cust_scope_idx (id, department, owner) answer
    # its lookups.
    department = models.ForeignKey(
        "org.Department", verbose_name=_("department"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", db_index=False,
    )
    # Name fragments are found through the bigram table and checked with LIKE '%x%', which no B-tree serves:
    # the customer's normalised name needs no index of its own (it was the largest one, never scanned).
    search_name = models.CharField(_("normalised name"), max_length=255, editable=False, default="")
    pool = models.ForeignKey(
        "pools.Pool", verbose_name=_("public pool"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", db_index=False,
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="cust_owner_idx", condition=models.Q(owner__isnull=False)),
            # Covering index for department-scope pages: walked in id order, filtered on department/owner.
            models.Index(fields=["id", "department", "owner"], name="cust_scope_idx"),
            models.Index(fields=["department", "-id"], name="cust_dept_idx"),
            models.Index(fields=["level", "-id"], name="cust_level_idx"),
            models.Index(fields=["status", "-id"], name="cust_status_idx"),
            models.Index(fields=["-updated_at"], name="cust_updated_idx"),
            models.Index(fields=["pool", "-id"], name="cust_pool_idx", condition=models.Q(pool__isnull=False)),
            models.Index(fields=["owner", "next_followup_at"], name="cust_owner_next_idx", condition=models.Q(owner__isnull=False)),
            models.Index(fields=["next_followup_at"], name="cust_next_idx"),
        ]

    def __str__(self):
        return self.name


    def clean(self):
        super().clean()
        self.name = (self.name or "").strip()
        if self.credit_code:
            self.credit_code = normalize_credit_code(self.credit_code)
        else:
            self.credit_code = None
        if self.phone:
            self.phone = normalize_phone(self.phone)

    def save(self, *args, **kwargs):
        self.refresh_search_keys()
        self.dedupe_name = company_key(self.name)[:255]
        if not self.credit_code:
            self.credit_code = None
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("customers:customer_detail", args=[self.pk])


class ContactQuerySet(models.QuerySet):
    pass


class Contact(SearchKeysMixin, CustomFieldsMixin, BusinessModel):
    """A person at a customer. Its data scope is its customer's."""

    permission_module = "contacts"

    name = models.CharField(_("full name"), max_length=100, validators=[validate_no_control_chars])
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts",
                                 db_index=False)  # (contact_customer_idx starts with it)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    mobile = models.CharField(_("mobile"), max_length=20, blank=True, db_index=True, validators=[validate_mobile])
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone])
    email = models.EmailField(_("e-mail"), max_length=254, blank=True, db_index=True)
    wechat = models.CharField(_("WeChat ID"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), blank=True, validators=[MaxLengthValidator(5000)])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "-is_primary", "id"], name="contact_customer_idx")]

    def __str__(self):
        return self.name


    @classmethod
    def scope_q(cls, user, scope, prefix=""):
        return Customer.scope_q(user, scope, prefix=f"{prefix}customer__")

    def clean(self):
        super().clean()
        self.name = (self.name or "").strip()
        if self.mobile:
            self.mobile = normalize_phone(self.mobile)
        if self.phone:
            self.phone = normalize_phone(self.phone)
        if self.email:
            self.email = self.email.strip().lower()

    def save(self, *args, **kwargs):
        self.refresh_search_keys()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("customers:contact_detail", args=[self.pk])
